#!/usr/bin/python3
"""Accord client example in Python.

Watches for new agreements, creates two institutions and an MOU between
them, reads the MOU back, provokes one error (the same MOU again) and
prints its google.rpc details, and prints the MOU's
`accord.agreement.v1.recorded` event when the watch stream delivers it.
Exits 0 once the event arrived, 1 on an error or after 15 seconds.

Targets come from ACCORD_INSTITUTION_TARGET, ACCORD_AGREEMENT_TARGET and
ACCORD_NOTIFICATION_TARGET; the bearer token from ACCORD_TOKEN. The
generated code comes from the accord-client wheel (package.sh), or from
the folder ACCORD_PYTHON_GEN names (generate.sh writes one). Run with an
interpreter that has python3-grpcio and python3-protobuf: Debian's
/usr/bin/python3, or a venv made with --system-site-packages.
"""

import os
import random
import sys
import time

if os.environ.get("ACCORD_PYTHON_GEN"):
    sys.path.insert(0, os.environ["ACCORD_PYTHON_GEN"])

import grpc  # noqa: E402
from google.protobuf import duration_pb2  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402

from accord.agreement.v1 import agreement_pb2, agreement_service_pb2, agreement_service_pb2_grpc  # noqa: E402
from accord.institution.v1 import institution_pb2, institution_service_pb2, institution_service_pb2_grpc  # noqa: E402
from accord.notification.v1 import notification_service_pb2, notification_service_pb2_grpc  # noqa: E402

RECORDED = "accord.agreement.v1.recorded"
TIMEOUT_SECONDS = 15


def target(variable, fallback):
    return os.environ.get(variable) or fallback


# Every call carries the bearer token (`authorization: Bearer <key>.<secret>`).
METADATA = (("authorization", "Bearer " + os.environ.get("ACCORD_TOKEN", "")),)


def print_error(error):
    """Prints a failed call's code, message and google.rpc details.

    The details travel as a serialized google.rpc.Status in the
    `grpc-status-details-bin` trailer; each entry is a google.protobuf.Any.
    """
    print("error %s: %s" % (error.code().name, error.details()), flush=True)
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        for detail in status_pb2.Status.FromString(value).details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                print("detail ErrorInfo reason=%s domain=%s" % (info.reason, info.domain))
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                for violation in bad_request.field_violations:
                    print("detail BadRequest field=%s: %s" % (violation.field, violation.description))
            elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                detail.Unpack(retry)
                print("detail RetryInfo retry_delay=%.3fs" % retry.retry_delay.ToTimedelta().total_seconds())
            else:
                print("detail", detail.type_url)


def create_institution(stub, institution_id, text, country_code):
    institution = institution_pb2.Institution(
        names=[institution_pb2.InstitutionName(
            text=text, type=institution_pb2.InstitutionName.TYPE_DISPLAY, language_code="en")],
        kind=institution_pb2.Institution.KIND_UNIVERSITY,
        country_code=country_code)
    request = institution_service_pb2.CreateInstitutionRequest(
        institution=institution, institution_id=institution_id)
    return stub.CreateInstitution(request, timeout=5, metadata=METADATA).name


def main():
    deadline = time.monotonic() + TIMEOUT_SECONDS
    institutions = institution_service_pb2_grpc.InstitutionServiceStub(
        grpc.insecure_channel(target("ACCORD_INSTITUTION_TARGET", "127.0.0.1:50051")))
    agreements = agreement_service_pb2_grpc.AgreementServiceStub(
        grpc.insecure_channel(target("ACCORD_AGREEMENT_TARGET", "127.0.0.1:50052")))
    notifications = notification_service_pb2_grpc.NotificationServiceStub(
        grpc.insecure_channel(target("ACCORD_NOTIFICATION_TARGET", "127.0.0.1:50053")))

    # 1. Watch new agreements from now on, with a heartbeat every 200 ms.
    stream = notifications.WatchEvents(
        notification_service_pb2.WatchEventsRequest(
            inline_selector=notification_service_pb2.EventSelector(event_types=[RECORDED]),
            start_position="now",
            heartbeat_interval=duration_pb2.Duration(nanos=200_000_000)),
        timeout=TIMEOUT_SECONDS, metadata=METADATA)
    # The first message (`started`) says the watch is registered: every event
    # recorded after its position will be delivered.
    first = next(stream)
    print("watching from position", first.started.position, flush=True)

    # 2. Two institutions in different countries, with ids unique per run.
    suffix = "%d-%d" % (time.time() * 1000, random.randrange(1_000_000))
    first_party = create_institution(
        institutions, "py-example-ir-" + suffix, "Python Example University (Iran)", "IR")
    second_party = create_institution(
        institutions, "py-example-ru-" + suffix, "Python Example University (Russia)", "RU")
    print("created", first_party, "and", second_party, flush=True)

    # 3. A memorandum of understanding between them, read back.
    def mou(agreement_id, parties):
        return agreement_service_pb2.CreateAgreementRequest(
            agreement_id=agreement_id,
            agreement=agreement_pb2.Agreement(
                titles=[agreement_pb2.LocalizedText(
                    text="Memorandum of understanding on scientific cooperation",
                    language_code="en")],
                kind=agreement_pb2.Agreement.KIND_MEMORANDUM_OF_UNDERSTANDING,
                parties=parties,
                signing_date="2025-04-25"))
    agreement = agreements.CreateAgreement(
        mou("py-example-mou-" + suffix, [first_party, second_party]),
        timeout=5, metadata=METADATA)
    print("created", agreement.name, flush=True)
    read = agreements.GetAgreement(
        agreement_service_pb2.GetAgreementRequest(name=agreement.name),
        timeout=5, metadata=METADATA)
    print("read %s kind=%s parties=%s" % (
        read.name, agreement_pb2.Agreement.Kind.Name(read.kind), ",".join(read.parties)),
        flush=True)

    # 4. The same MOU again: ALREADY_EXISTS, whose details give the reason
    # (ErrorInfo) and the field at fault (BadRequest).
    try:
        agreements.CreateAgreement(
            mou("py-example-mou-" + suffix, [first_party, second_party]),
            timeout=5, metadata=METADATA)
        print("python example: the second MOU was accepted", file=sys.stderr)
        return 1
    except grpc.RpcError as error:
        print_error(error)

    # 5. Read until the MOU's event arrives (heartbeats are skipped).
    for message in stream:
        if message.WhichOneof("kind") != "event":
            continue
        event = message.event
        if event.type == RECORDED and event.subject == agreement.name:
            print("event", event.position, event.type, event.subject, flush=True)
            stream.cancel()
            return 0
        if time.monotonic() > deadline:
            break
    print("python example: the event did not arrive", file=sys.stderr)
    return 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as error:
        print("python example: a call failed", file=sys.stderr)
        print_error(error)
        sys.exit(1)
