// Accord client example in Java: watches for new agreements, creates two
// institutions and an MOU between them, reads the MOU back, provokes one
// error (the same MOU again) and prints its google.rpc details, and prints
// the MOU's `accord.agreement.v1.recorded` event when the watch stream
// delivers it. Exits 0 once the event arrived, 1 on an error or after 15
// seconds.
//
// Targets come from ACCORD_INSTITUTION_TARGET, ACCORD_AGREEMENT_TARGET and
// ACCORD_NOTIFICATION_TARGET; the bearer token from ACCORD_TOKEN. Built
// against the accord-client jar and Debian's grpc-java (see
// clients/README.md).
package org.accord.example;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import java.util.Iterator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.accord.agreement.v1.Agreement;
import org.accord.agreement.v1.AgreementServiceGrpc;
import org.accord.agreement.v1.CreateAgreementRequest;
import org.accord.agreement.v1.GetAgreementRequest;
import org.accord.agreement.v1.LocalizedText;
import org.accord.events.v1.Event;
import org.accord.institution.v1.CreateInstitutionRequest;
import org.accord.institution.v1.Institution;
import org.accord.institution.v1.InstitutionName;
import org.accord.institution.v1.InstitutionServiceGrpc;
import org.accord.notification.v1.EventSelector;
import org.accord.notification.v1.NotificationServiceGrpc;
import org.accord.notification.v1.WatchEventsRequest;
import org.accord.notification.v1.WatchEventsResponse;

public final class Example {
  private static final String RECORDED = "accord.agreement.v1.recorded";
  private static final int TIMEOUT_SECONDS = 15;

  private static String env(String variable, String fallback) {
    String value = System.getenv(variable);
    return value == null || value.isEmpty() ? fallback : value;
  }

  // Plaintext for a suite on loopback; over a network, use TLS
  // (drop usePlaintext()).
  private static ManagedChannel channel(String variable, String fallback) {
    return ManagedChannelBuilder.forTarget(env(variable, fallback)).usePlaintext().build();
  }

  // Every call carries the bearer token (`authorization: Bearer <key>.<secret>`).
  private static Metadata authorization() {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
        "Bearer " + env("ACCORD_TOKEN", ""));
    return headers;
  }

  // Prints a failed call's code, message and google.rpc details: StatusProto
  // reads the google.rpc.Status from the `grpc-status-details-bin` trailer.
  static void printError(StatusRuntimeException error) throws InvalidProtocolBufferException {
    System.out.println("error " + error.getStatus().getCode() + ": "
        + error.getStatus().getDescription());
    com.google.rpc.Status status = StatusProto.fromThrowable(error);
    if (status == null) return;
    for (Any detail : status.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        ErrorInfo info = detail.unpack(ErrorInfo.class);
        System.out.println("detail ErrorInfo reason=" + info.getReason()
            + " domain=" + info.getDomain());
      } else if (detail.is(BadRequest.class)) {
        for (BadRequest.FieldViolation violation :
            detail.unpack(BadRequest.class).getFieldViolationsList()) {
          System.out.println("detail BadRequest field=" + violation.getField() + ": "
              + violation.getDescription());
        }
      } else if (detail.is(RetryInfo.class)) {
        Duration delay = detail.unpack(RetryInfo.class).getRetryDelay();
        System.out.printf("detail RetryInfo retry_delay=%.3fs%n",
            delay.getSeconds() + delay.getNanos() / 1e9);
      } else {
        System.out.println("detail " + detail.getTypeUrl());
      }
    }
  }

  private static String createInstitution(InstitutionServiceGrpc.InstitutionServiceBlockingStub stub,
      String id, String text, String countryCode) {
    return stub.withDeadlineAfter(5, TimeUnit.SECONDS)
        .createInstitution(CreateInstitutionRequest.newBuilder()
            .setInstitutionId(id)
            .setInstitution(Institution.newBuilder()
                .addNames(InstitutionName.newBuilder()
                    .setText(text)
                    .setType(InstitutionName.Type.TYPE_DISPLAY)
                    .setLanguageCode("en"))
                .setKind(Institution.Kind.KIND_UNIVERSITY)
                .setCountryCode(countryCode))
            .build())
        .getName();
  }

  private static int run() throws Exception {
    var auth = MetadataUtils.newAttachHeadersInterceptor(authorization());
    var institutions = InstitutionServiceGrpc.newBlockingStub(
        channel("ACCORD_INSTITUTION_TARGET", "127.0.0.1:50051")).withInterceptors(auth);
    var agreements = AgreementServiceGrpc.newBlockingStub(
        channel("ACCORD_AGREEMENT_TARGET", "127.0.0.1:50052")).withInterceptors(auth);
    var notifications = NotificationServiceGrpc.newBlockingStub(
        channel("ACCORD_NOTIFICATION_TARGET", "127.0.0.1:50053")).withInterceptors(auth);

    // 1. Watch new agreements from now on, with a heartbeat every 200 ms.
    Iterator<WatchEventsResponse> stream =
        notifications.withDeadlineAfter(TIMEOUT_SECONDS, TimeUnit.SECONDS)
            .watchEvents(WatchEventsRequest.newBuilder()
                .setInlineSelector(EventSelector.newBuilder().addEventTypes(RECORDED))
                .setStartPosition("now")
                .setHeartbeatInterval(Duration.newBuilder().setNanos(200_000_000))
                .build());
    // The first message (`started`) says the watch is registered: every event
    // recorded after its position will be delivered.
    System.out.println("watching from position " + stream.next().getStarted().getPosition());

    // 2. Two institutions in different countries, with ids unique per run.
    String suffix = System.currentTimeMillis() + "-"
        + ThreadLocalRandom.current().nextInt(1_000_000);
    String first = createInstitution(institutions, "java-example-ir-" + suffix,
        "Java Example University (Iran)", "IR");
    String second = createInstitution(institutions, "java-example-ru-" + suffix,
        "Java Example University (Russia)", "RU");
    System.out.println("created " + first + " and " + second);

    // 3. A memorandum of understanding between them, read back.
    CreateAgreementRequest mou = CreateAgreementRequest.newBuilder()
        .setAgreementId("java-example-mou-" + suffix)
        .setAgreement(Agreement.newBuilder()
            .addTitles(LocalizedText.newBuilder()
                .setText("Memorandum of understanding on scientific cooperation")
                .setLanguageCode("en"))
            .setKind(Agreement.Kind.KIND_MEMORANDUM_OF_UNDERSTANDING)
            .addParties(first)
            .addParties(second)
            .setSigningDate("2025-04-25"))
        .build();
    Agreement created = agreements.withDeadlineAfter(5, TimeUnit.SECONDS).createAgreement(mou);
    System.out.println("created " + created.getName());
    Agreement read = agreements.withDeadlineAfter(5, TimeUnit.SECONDS)
        .getAgreement(GetAgreementRequest.newBuilder().setName(created.getName()).build());
    System.out.println("read " + read.getName() + " kind=" + read.getKind()
        + " parties=" + String.join(",", read.getPartiesList()));

    // 4. The same MOU again: ALREADY_EXISTS, whose details give the reason
    // (ErrorInfo) and the field at fault (BadRequest).
    try {
      agreements.withDeadlineAfter(5, TimeUnit.SECONDS).createAgreement(mou);
      System.err.println("java example: the second MOU was accepted");
      return 1;
    } catch (StatusRuntimeException error) {
      printError(error);
    }

    // 5. Read until the MOU's event arrives (heartbeats are skipped).
    while (stream.hasNext()) {
      WatchEventsResponse message = stream.next();
      if (!message.hasEvent()) continue;
      Event event = message.getEvent();
      if (event.getType().equals(RECORDED) && event.getSubject().equals(created.getName())) {
        System.out.println("event " + event.getPosition() + " " + event.getType() + " "
            + event.getSubject());
        return 0;
      }
    }
    System.err.println("java example: the stream ended before the event");
    return 1;
  }

  public static void main(String[] args) throws Exception {
    int code;
    try {
      code = run();
    } catch (StatusRuntimeException error) {
      System.err.println("java example: a call failed");
      printError(error);
      code = 1;
    }
    System.out.flush();
    // halt: the channels' threads would keep a plain exit waiting.
    Runtime.getRuntime().halt(code);
  }
}
