// The Go client module: Accord's messages and gRPC stubs, generated into
// this folder by clients/go/package.sh (never committed). Its versions are
// tags vX.Y.Z with X.Y.Z from clients/VERSION.
module github.com/accord-suite/accord-go

go 1.16

// The versions Debian 12 packages (golang-google-grpc-dev,
// golang-google-protobuf-dev, golang-google-genproto-dev); any later one
// works too.
require (
	google.golang.org/genproto v0.0.0-20200413115906-b5235f65be36
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
