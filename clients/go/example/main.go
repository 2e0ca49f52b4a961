// Command example is the Accord client example in Go: it watches for new
// agreements, creates two institutions and an MOU between them, reads the
// MOU back, provokes one error (the same MOU again) and prints its
// google.rpc details, and prints the MOU's `accord.agreement.v1.recorded`
// event when the watch stream delivers it. It exits 0 once the event
// arrived, 1 on an error or after 15 seconds.
//
// Targets come from ACCORD_INSTITUTION_TARGET, ACCORD_AGREEMENT_TARGET and
// ACCORD_NOTIFICATION_TARGET; the bearer token from ACCORD_TOKEN. It uses
// the Go client module github.com/accord-suite/accord-go; go.mod.in is its
// go.mod, and ../vendor.sh vendors the module with Debian's Go libraries
// for an offline build (see clients/README.md).
package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"time"

	agreementv1 "github.com/accord-suite/accord-go/accord/agreement/v1"
	institutionv1 "github.com/accord-suite/accord-go/accord/institution/v1"
	notificationv1 "github.com/accord-suite/accord-go/accord/notification/v1"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

const recorded = "accord.agreement.v1.recorded"

func target(variable, fallback string) string {
	if value := os.Getenv(variable); value != "" {
		return value
	}
	return fallback
}

// bearerToken sends `authorization: Bearer <token>` with every call.
type bearerToken string

func (token bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(token)}, nil
}

// RequireTransportSecurity is false so that the example also runs against a
// suite on loopback without TLS; over a network, dial with TLS credentials.
func (bearerToken) RequireTransportSecurity() bool { return false }

func dial(variable, fallback string) *grpc.ClientConn {
	conn, err := grpc.Dial(target(variable, fallback), grpc.WithInsecure(),
		grpc.WithPerRPCCredentials(bearerToken(os.Getenv("ACCORD_TOKEN"))))
	if err != nil {
		fail("dial "+variable, err)
	}
	return conn
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "go example: %s failed\n", what)
	printError(err)
	os.Exit(1)
}

// printError prints a failed call's code, message and google.rpc details,
// which grpc-go decodes from the `grpc-status-details-bin` trailer.
func printError(err error) {
	st := status.Convert(err)
	fmt.Printf("error %s: %s\n", codeName(st.Code().String()), st.Message())
	for _, detail := range st.Details() {
		switch detail := detail.(type) {
		case *errdetails.ErrorInfo:
			fmt.Printf("detail ErrorInfo reason=%s domain=%s\n", detail.GetReason(), detail.GetDomain())
		case *errdetails.BadRequest:
			for _, violation := range detail.GetFieldViolations() {
				fmt.Printf("detail BadRequest field=%s: %s\n", violation.GetField(), violation.GetDescription())
			}
		case *errdetails.RetryInfo:
			fmt.Printf("detail RetryInfo retry_delay=%.3fs\n", detail.GetRetryDelay().AsDuration().Seconds())
		default:
			fmt.Printf("detail %T\n", detail)
		}
	}
}

// codeName turns grpc-go's "AlreadyExists" into the canonical ALREADY_EXISTS.
func codeName(camel string) string {
	name := make([]rune, 0, len(camel)+4)
	for i, r := range camel {
		if i > 0 && r >= 'A' && r <= 'Z' {
			name = append(name, '_')
		}
		name = append(name, []rune(strings.ToUpper(string(r)))...)
	}
	return string(name)
}

func createInstitution(ctx context.Context, client institutionv1.InstitutionServiceClient,
	id, text, countryCode string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	institution, err := client.CreateInstitution(ctx, &institutionv1.CreateInstitutionRequest{
		InstitutionId: id,
		Institution: &institutionv1.Institution{
			Names: []*institutionv1.InstitutionName{{
				Text: text, Type: institutionv1.InstitutionName_TYPE_DISPLAY, LanguageCode: "en",
			}},
			Kind:        institutionv1.Institution_KIND_UNIVERSITY,
			CountryCode: countryCode,
		},
	})
	if err != nil {
		fail("CreateInstitution", err)
	}
	return institution.GetName()
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	institutions := institutionv1.NewInstitutionServiceClient(
		dial("ACCORD_INSTITUTION_TARGET", "127.0.0.1:50051"))
	agreements := agreementv1.NewAgreementServiceClient(
		dial("ACCORD_AGREEMENT_TARGET", "127.0.0.1:50052"))
	notifications := notificationv1.NewNotificationServiceClient(
		dial("ACCORD_NOTIFICATION_TARGET", "127.0.0.1:50053"))

	// 1. Watch new agreements from now on, with a heartbeat every 200 ms.
	stream, err := notifications.WatchEvents(ctx, &notificationv1.WatchEventsRequest{
		Selector: &notificationv1.WatchEventsRequest_InlineSelector{
			InlineSelector: &notificationv1.EventSelector{EventTypes: []string{recorded}},
		},
		StartPosition:     "now",
		HeartbeatInterval: durationpb.New(200 * time.Millisecond),
	})
	if err != nil {
		fail("WatchEvents", err)
	}
	// The first message (`started`) says the watch is registered: every event
	// recorded after its position will be delivered.
	first, err := stream.Recv()
	if err != nil {
		fail("WatchEvents", err)
	}
	fmt.Println("watching from position", first.GetStarted().GetPosition())

	// 2. Two institutions in different countries, with ids unique per run.
	suffix := fmt.Sprintf("%d-%d", time.Now().UnixMilli(),
		rand.New(rand.NewSource(time.Now().UnixNano())).Intn(1000000))
	firstParty := createInstitution(ctx, institutions, "go-example-ir-"+suffix,
		"Go Example University (Iran)", "IR")
	secondParty := createInstitution(ctx, institutions, "go-example-ru-"+suffix,
		"Go Example University (Russia)", "RU")
	fmt.Println("created", firstParty, "and", secondParty)

	// 3. A memorandum of understanding between them, read back.
	mou := &agreementv1.CreateAgreementRequest{
		AgreementId: "go-example-mou-" + suffix,
		Agreement: &agreementv1.Agreement{
			Titles: []*agreementv1.LocalizedText{{
				Text: "Memorandum of understanding on scientific cooperation", LanguageCode: "en",
			}},
			Kind:        agreementv1.Agreement_KIND_MEMORANDUM_OF_UNDERSTANDING,
			Parties:     []string{firstParty, secondParty},
			SigningDate: "2025-04-25",
		},
	}
	callCtx, callCancel := context.WithTimeout(ctx, 5*time.Second)
	defer callCancel()
	agreement, err := agreements.CreateAgreement(callCtx, mou)
	if err != nil {
		fail("CreateAgreement", err)
	}
	fmt.Println("created", agreement.GetName())
	read, err := agreements.GetAgreement(callCtx, &agreementv1.GetAgreementRequest{Name: agreement.GetName()})
	if err != nil {
		fail("GetAgreement", err)
	}
	fmt.Printf("read %s kind=%s parties=%s\n", read.GetName(), read.GetKind(),
		strings.Join(read.GetParties(), ","))

	// 4. The same MOU again: ALREADY_EXISTS, whose details give the reason
	// (ErrorInfo) and the field at fault (BadRequest).
	if _, err := agreements.CreateAgreement(callCtx, mou); err == nil {
		fmt.Fprintln(os.Stderr, "go example: the second MOU was accepted")
		os.Exit(1)
	} else {
		printError(err)
	}

	// 5. Read until the MOU's event arrives (heartbeats are skipped).
	for {
		message, err := stream.Recv()
		if err != nil {
			fail("waiting for the event", err)
		}
		event := message.GetEvent()
		if event != nil && event.GetType() == recorded && event.GetSubject() == agreement.GetName() {
			fmt.Println("event", event.GetPosition(), event.GetType(), event.GetSubject())
			return
		}
	}
}
