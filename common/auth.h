#ifndef ACCORD_COMMON_AUTH_H_
#define ACCORD_COMMON_AUTH_H_

// Who is calling and what they may do.
//
// Callers authenticate with a bearer token (`authorization: Bearer
// <key_id>.<secret>`) checked against salted hashes in a credentials file
// (accord.auth.v1.CredentialsFile, JSON), or with a client certificate over
// mutual TLS whose subject the file maps to a principal. The file is re-read
// when its contents change (compared by hash, so a Kubernetes Secret update,
// which swaps a symlink and may keep the old modification time, is seen), so
// keys are added and revoked without a restart. Each principal has roles and
// the institutions it acts for; a per-principal token bucket bounds its
// request rate, and a per-peer-address bucket bounds failed authentications
// (a flood of bad tokens gets RESOURCE_EXHAUSTED, not endless hashing).
//
// Example (first line of a handler):
//   ACCORD_ASSIGN_OR_RETURN(Principal caller,
//                           auth.Authorize(*context, Access::kWrite));
//   if (!caller.CanEdit({"institutions/tums"})) return PermissionDenied(...);

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "accord/auth/v1/auth.pb.h"
#include "common/config.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace accord {

// What a method needs.
enum class Access {
  kRead,       // viewer, editor, admin
  kWrite,      // editor (then checked per object), admin
  kSubscribe,  // subscriber, viewer, editor, admin: watch and own subscriptions
  kAdmin,      // admin only
};

struct Principal {
  std::string id;
  std::set<auth::v1::Role> roles;
  std::set<std::string> institutions;

  bool IsAdmin() const;
  bool Has(auth::v1::Role role) const;
  // Admin, or an editor acting for one of `scope`.
  bool CanEdit(const std::vector<std::string>& scope) const;
  // A restricted record is visible to admins and to principals acting for
  // one of `scope` (its parties); others see it as absent.
  bool CanSee(bool restricted, const std::vector<std::string>& scope) const;
  // Whether an event (accord.events.v1.Event) may reach this principal:
  // events about restricted records carry the institutions they are
  // restricted to (or, for the events about a subscription, its owner, which
  // may be a principal). A template so that this header, and accordctl, do
  // not depend on the event envelope.
  template <typename Event>
  bool CanReceive(const Event& event) const {
    return CanReceiveRestrictedTo(event.restricted_to());
  }
  // The same for an event's `restricted_to` list.
  bool CanReceiveRestrictedTo(
      const google::protobuf::RepeatedPtrField<std::string>& restricted_to)
      const;
};

struct AuthFlags {
  std::string credentials_file;
  bool insecure_no_auth = false;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  int64_t rate_limit_per_second = 200;
  int64_t rate_limit_burst = 400;
  // Failed authentications per second per peer address, and the burst.
  int64_t auth_failure_rate_limit = 10;
  int64_t auth_failure_burst = 100;
};

void RegisterAuthFlags(FlagSet& flag_set, AuthFlags& flags);

// PERMISSION_DENIED with reason and the field that decided it.
absl::Status PermissionDenied(absl::string_view message,
                              absl::string_view field = "");

class Authenticator {
 public:
  // Reads the credentials file (unless --insecure_no_auth) and the TLS
  // files. Fails if they are missing or malformed.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(
      const AuthFlags& flags);

  // Authenticates the caller, applies its rate limit and checks its role
  // allows `access`. UNAUTHENTICATED, RESOURCE_EXHAUSTED (with RetryInfo) or
  // PERMISSION_DENIED; never mentions the token. A failed authentication
  // spends from its peer address's budget; once that is empty, further
  // failures from the address get RESOURCE_EXHAUSTED (valid credentials from
  // it are still served). Takes the context of a synchronous or a callback
  // method.
  absl::StatusOr<Principal> Authorize(const grpc::ServerContextBase& context,
                                      Access access);

  // Insecure, or TLS requiring client certificates signed by the CA.
  std::shared_ptr<grpc::ServerCredentials> ServerCredentials() const;

  // The principal with this id in the current credentials (for deliveries
  // on its behalf, such as webhooks); nullopt if it is not, or no longer,
  // there.
  std::optional<Principal> FindPrincipal(absl::string_view id);

  bool insecure() const { return flags_.insecure_no_auth; }

  // A token bucket of one principal or peer address.
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };

 private:
  struct Snapshot {
    std::vector<Principal> principals;
    // key_id → (principal index, key)
    absl::flat_hash_map<std::string, std::pair<size_t, auth::v1::ApiKey>> keys;
    absl::flat_hash_map<std::string, size_t> subjects;
  };
  explicit Authenticator(AuthFlags flags) : flags_(std::move(flags)) {}
  // Parses `text` (the file's contents) and makes it the current set.
  absl::Status Load(const std::string& text);
  void ReloadIfChanged();
  absl::StatusOr<Principal> Identify(const grpc::ServerContextBase& context);
  absl::Status TakeToken(const std::string& principal);
  absl::Status TakeFailureToken(const std::string& peer_address);

  AuthFlags flags_;
  std::string tls_cert_;
  std::string tls_key_;
  std::string tls_client_ca_;
  absl::Mutex mutex_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mutex_);
  // SHA-256 of the contents last applied, and of the last contents that
  // failed to parse (so a broken file is reported once, not every second).
  std::string file_digest_ ABSL_GUARDED_BY(mutex_);
  std::string rejected_digest_ ABSL_GUARDED_BY(mutex_);
  absl::Time next_check_ ABSL_GUARDED_BY(mutex_);
  absl::Mutex buckets_mutex_;
  absl::flat_hash_map<std::string, Bucket> buckets_
      ABSL_GUARDED_BY(buckets_mutex_);
  absl::flat_hash_map<std::string, Bucket> failure_buckets_
      ABSL_GUARDED_BY(buckets_mutex_);
};

// Helpers for tools and tests: a new random token for `key_id`, and the
// ApiKey entry that accepts it.
struct NewToken {
  std::string token;
  auth::v1::ApiKey key;
};
NewToken MakeToken(absl::string_view key_id);

}  // namespace accord

#endif  // ACCORD_COMMON_AUTH_H_
