#include "common/auth.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/trace_context.h"
#include "google/protobuf/util/json_util.h"

namespace accord {
namespace {

using auth::v1::Role;

constexpr absl::Duration kReloadCheckInterval = absl::Seconds(1);

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::string Sha256(absl::string_view input) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
         digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

std::string Sha256Hex(absl::string_view salt_hex, absl::string_view secret) {
  return absl::BytesToHexString(
      Sha256(absl::StrCat(absl::HexStringToBytes(salt_hex), secret)));
}

// "ipv4:10.0.0.7:51234" → "ipv4:10.0.0.7"; "ipv6:[::1]:5" → "ipv6:[::1]".
// The port changes with every connection, the address does not.
std::string PeerAddress(const std::string& peer) {
  const size_t colon = peer.rfind(':');
  const size_t bracket = peer.rfind(']');
  if (colon == std::string::npos || colon < 5 ||
      (bracket != std::string::npos && colon < bracket)) {
    return peer;
  }
  return peer.substr(0, colon);
}

// Takes one token from `bucket` (refilled at `rate` per second up to
// `burst`); RESOURCE_EXHAUSTED with RetryInfo and `message` when empty.
absl::Status TakeFrom(
    absl::flat_hash_map<std::string, Authenticator::Bucket>& buckets,
    const std::string& key, double rate, double burst,
    absl::string_view message) {
  const absl::Time now = absl::Now();
  auto [bucket, created] = buckets.try_emplace(key);
  if (created) {
    bucket->second.tokens = burst;
    bucket->second.updated = now;
  }
  Authenticator::Bucket& state = bucket->second;
  state.tokens = std::min(
      burst, state.tokens + absl::ToDoubleSeconds(now - state.updated) * rate);
  state.updated = now;
  if (state.tokens < 1) {
    return ErrorWithRetry(absl::StatusCode::kResourceExhausted, message,
                          absl::Seconds((1 - state.tokens) / rate));
  }
  state.tokens -= 1;
  return absl::OkStatus();
}

std::string RandomHex(size_t bytes) {
  std::string random(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(random.data()),
             static_cast<int>(random.size()));
  return absl::BytesToHexString(random);
}

absl::Status Unauthenticated(absl::string_view why) {
  return ErrorWithReason(absl::StatusCode::kUnauthenticated, why,
                         "UNAUTHENTICATED");
}

bool Allows(const Principal& principal, Access access) {
  if (principal.IsAdmin()) return true;
  const bool reader = principal.Has(auth::v1::ROLE_VIEWER) ||
                      principal.Has(auth::v1::ROLE_EDITOR);
  switch (access) {
    case Access::kRead:
      return reader;
    case Access::kWrite:
      return principal.Has(auth::v1::ROLE_EDITOR);
    case Access::kSubscribe:
      return reader || principal.Has(auth::v1::ROLE_SUBSCRIBER);
    case Access::kAdmin:
      return false;
  }
  return false;
}

}  // namespace

bool Principal::IsAdmin() const {
  return roles.count(auth::v1::ROLE_ADMIN) > 0;
}

bool Principal::Has(Role role) const { return roles.count(role) > 0; }

bool Principal::CanEdit(const std::vector<std::string>& scope) const {
  if (IsAdmin()) return true;
  if (!Has(auth::v1::ROLE_EDITOR)) return false;
  return std::any_of(scope.begin(), scope.end(),
                     [this](const std::string& institution) {
                       return institutions.count(institution) > 0;
                     });
}

bool Principal::CanSee(bool restricted,
                       const std::vector<std::string>& scope) const {
  if (!restricted || IsAdmin()) return true;
  return std::any_of(scope.begin(), scope.end(),
                     [this](const std::string& institution) {
                       return institutions.count(institution) > 0;
                     });
}

bool Principal::CanReceiveRestrictedTo(
    const google::protobuf::RepeatedPtrField<std::string>& restricted_to)
    const {
  // An event about a subscription is restricted to its owner, which may be
  // a principal rather than an institution.
  if (!id.empty() && std::find(restricted_to.begin(), restricted_to.end(),
                               id) != restricted_to.end()) {
    return true;
  }
  return CanSee(!restricted_to.empty(),
                {restricted_to.begin(), restricted_to.end()});
}

std::optional<Principal> Authenticator::FindPrincipal(absl::string_view id) {
  if (flags_.insecure_no_auth) {
    Principal anonymous;
    anonymous.id = std::string(id);
    anonymous.roles = {auth::v1::ROLE_ADMIN};
    return anonymous;
  }
  ReloadIfChanged();
  absl::MutexLock lock(&mutex_);
  for (const Principal& principal : snapshot_->principals) {
    if (principal.id == id) return principal;
  }
  return std::nullopt;
}

void RegisterAuthFlags(FlagSet& flag_set, AuthFlags& flags) {
  flag_set.AddString("credentials_file", &flags.credentials_file,
                     "accord.auth.v1.CredentialsFile (JSON) with principals, "
                     "hashed API keys and certificate subjects");
  flag_set.AddBool("insecure_no_auth", &flags.insecure_no_auth,
                   "accept every caller as an admin (development only; "
                   "logged as a warning)");
  flag_set.AddString("tls_cert", &flags.tls_cert_file,
                     "server certificate (PEM); enables TLS");
  flag_set.AddString("tls_key", &flags.tls_key_file,
                     "server private key (PEM)");
  flag_set.AddString("tls_client_ca", &flags.tls_client_ca_file,
                     "CA (PEM) that signs client certificates; with it, "
                     "clients must present one (mutual TLS)");
  flag_set.AddInt("rate_limit", &flags.rate_limit_per_second, 1, 1000000,
                  "requests per second per principal");
  flag_set.AddInt("rate_limit_burst", &flags.rate_limit_burst, 1, 1000000,
                  "burst above the rate limit");
  flag_set.AddInt("auth_failure_rate_limit", &flags.auth_failure_rate_limit, 1,
                  1000000,
                  "failed authentications per second per peer address; "
                  "beyond it (and its burst) they get RESOURCE_EXHAUSTED");
  flag_set.AddInt("auth_failure_burst", &flags.auth_failure_burst, 1, 1000000,
                  "failed authentications a peer address may make at once");
}

absl::Status PermissionDenied(absl::string_view message,
                              absl::string_view field) {
  return ErrorWithReason(absl::StatusCode::kPermissionDenied, message,
                         "PERMISSION_DENIED", field);
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(
    const AuthFlags& flags) {
  std::unique_ptr<Authenticator> authenticator(new Authenticator(flags));
  if (!flags.tls_cert_file.empty() || !flags.tls_key_file.empty()) {
    ACCORD_ASSIGN_OR_RETURN(authenticator->tls_cert_,
                            ReadFile(flags.tls_cert_file));
    ACCORD_ASSIGN_OR_RETURN(authenticator->tls_key_,
                            ReadFile(flags.tls_key_file));
  }
  if (!flags.tls_client_ca_file.empty()) {
    if (authenticator->tls_cert_.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca needs --tls_cert and --tls_key");
    }
    ACCORD_ASSIGN_OR_RETURN(authenticator->tls_client_ca_,
                            ReadFile(flags.tls_client_ca_file));
  }
  if (flags.insecure_no_auth) {
    LogWarning(
        "authentication is OFF (--insecure_no_auth): every caller is "
        "an admin");
    return authenticator;
  }
  if (flags.credentials_file.empty()) {
    return absl::InvalidArgumentError(
        "--credentials_file is required (or --insecure_no_auth for "
        "development)");
  }
  ACCORD_ASSIGN_OR_RETURN(std::string text, ReadFile(flags.credentials_file));
  ACCORD_RETURN_IF_ERROR(authenticator->Load(text));
  return authenticator;
}

absl::Status Authenticator::Load(const std::string& text) {
  auth::v1::CredentialsFile file;
  const auto parsed = google::protobuf::util::JsonStringToMessage(text, &file);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        flags_.credentials_file, ": ", parsed.message().as_string()));
  }
  auto snapshot = std::make_shared<Snapshot>();
  for (const auto& entry : file.principals()) {
    if (entry.id().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(flags_.credentials_file, ": a principal has no id"));
    }
    Principal principal;
    principal.id = entry.id();
    for (const int role : entry.roles()) {
      principal.roles.insert(static_cast<Role>(role));
    }
    principal.institutions.insert(entry.institutions().begin(),
                                  entry.institutions().end());
    const size_t index = snapshot->principals.size();
    snapshot->principals.push_back(std::move(principal));
    for (const auto& key : entry.api_keys()) {
      if (!snapshot->keys.emplace(key.key_id(), std::make_pair(index, key))
               .second) {
        return absl::InvalidArgumentError(absl::StrCat(
            flags_.credentials_file, ": key id ", key.key_id(), " repeats"));
      }
    }
    for (const auto& subject : entry.certificate_subjects()) {
      snapshot->subjects[subject] = index;
    }
  }
  absl::MutexLock lock(&mutex_);
  snapshot_ = std::move(snapshot);
  file_digest_ = Sha256(text);
  next_check_ = absl::Now() + kReloadCheckInterval;
  return absl::OkStatus();
}

void Authenticator::ReloadIfChanged() {
  {
    absl::MutexLock lock(&mutex_);
    if (absl::Now() < next_check_) return;
    next_check_ = absl::Now() + kReloadCheckInterval;
  }
  // The contents decide, not the modification time: a Kubernetes Secret
  // update swaps the `..data` symlink to a new directory, whose file may
  // carry any time (and a copy may keep the old one). The file is small and
  // read at most once per interval.
  absl::StatusOr<std::string> text = ReadFile(flags_.credentials_file);
  if (!text.ok()) {
    LogError("credentials file unreadable; keeping the previous set",
             {{"error", text.status().ToString()}});
    return;
  }
  const std::string digest = Sha256(*text);
  {
    absl::MutexLock lock(&mutex_);
    if (digest == file_digest_ || digest == rejected_digest_) return;
  }
  const absl::Status status = Load(*text);
  if (status.ok()) {
    LogInfo("credentials reloaded", {{"file", flags_.credentials_file}});
  } else {
    absl::MutexLock lock(&mutex_);
    rejected_digest_ = digest;
    // Keep serving with the last good set rather than locking everyone out.
    LogError("credentials reload failed; keeping the previous set",
             {{"error", status.ToString()}});
  }
}

absl::StatusOr<Principal> Authenticator::Identify(
    const grpc::ServerContextBase& context) {
  if (flags_.insecure_no_auth) {
    Principal anonymous;
    anonymous.id = "anonymous";
    anonymous.roles = {auth::v1::ROLE_ADMIN};
    return anonymous;
  }
  ReloadIfChanged();
  std::shared_ptr<const Snapshot> snapshot;
  {
    absl::MutexLock lock(&mutex_);
    snapshot = snapshot_;
  }
  const auto& metadata = context.client_metadata();
  const auto header = metadata.find("authorization");
  if (header != metadata.end()) {
    absl::string_view value(header->second.data(), header->second.size());
    if (!absl::ConsumePrefix(&value, "Bearer ")) {
      return Unauthenticated("the authorization header is not a Bearer token");
    }
    const size_t dot = value.find('.');
    if (dot == absl::string_view::npos) {
      return Unauthenticated("the bearer token is malformed");
    }
    const std::string key_id(value.substr(0, dot));
    const auto key = snapshot->keys.find(key_id);
    if (key == snapshot->keys.end()) {
      return Unauthenticated("the bearer token is not known");
    }
    const std::string expected = key->second.second.sha256();
    const std::string actual =
        Sha256Hex(key->second.second.salt(), value.substr(dot + 1));
    if (expected.size() != actual.size() ||
        CRYPTO_memcmp(expected.data(), actual.data(), actual.size()) != 0) {
      return Unauthenticated("the bearer token is not known");
    }
    if (key->second.second.revoked()) {
      return Unauthenticated("the bearer token was revoked");
    }
    return snapshot->principals[key->second.first];
  }
  // Mutual TLS: the verified client certificate's common name.
  const auto auth_context = context.auth_context();
  if (auth_context != nullptr && auth_context->IsPeerAuthenticated()) {
    for (const auto& name :
         auth_context->FindPropertyValues("x509_common_name")) {
      const auto subject =
          snapshot->subjects.find(std::string(name.data(), name.size()));
      if (subject != snapshot->subjects.end()) {
        return snapshot->principals[subject->second];
      }
    }
    return Unauthenticated("the client certificate maps to no principal");
  }
  return Unauthenticated(
      "credentials are required: an authorization: Bearer token or a client "
      "certificate");
}

absl::Status Authenticator::TakeToken(const std::string& principal) {
  absl::MutexLock lock(&buckets_mutex_);
  return TakeFrom(buckets_, principal,
                  static_cast<double>(flags_.rate_limit_per_second),
                  static_cast<double>(flags_.rate_limit_burst),
                  absl::StrCat("rate limit of ", flags_.rate_limit_per_second,
                               " requests per second exceeded"));
}

absl::Status Authenticator::TakeFailureToken(const std::string& peer_address) {
  constexpr size_t kMaxTrackedPeers = 10000;
  const double rate = static_cast<double>(flags_.auth_failure_rate_limit);
  const double burst = static_cast<double>(flags_.auth_failure_burst);
  absl::MutexLock lock(&buckets_mutex_);
  if (failure_buckets_.size() >= kMaxTrackedPeers) {
    // Forget addresses whose budget has refilled: they would start full.
    const absl::Time now = absl::Now();
    absl::erase_if(failure_buckets_, [&](const auto& entry) {
      return entry.second.tokens +
                 absl::ToDoubleSeconds(now - entry.second.updated) * rate >=
             burst;
    });
  }
  return TakeFrom(
      failure_buckets_, peer_address, rate, burst,
      absl::StrCat("too many failed authentications from this address (limit ",
                   flags_.auth_failure_rate_limit,
                   " per second); retry later with valid credentials"));
}

absl::StatusOr<Principal> Authenticator::Authorize(
    const grpc::ServerContextBase& context, Access access) {
  absl::StatusOr<Principal> identified = Identify(context);
  if (!identified.ok()) {
    if (identified.status().code() == absl::StatusCode::kUnauthenticated) {
      ACCORD_RETURN_IF_ERROR(TakeFailureToken(PeerAddress(context.peer())));
    }
    return identified.status();
  }
  Principal principal = *std::move(identified);
  // The call's log line and span name who called, refused or not.
  if (RpcSpan* span = CurrentRpc(context)) span->principal = principal.id;
  if (!flags_.insecure_no_auth) {
    ACCORD_RETURN_IF_ERROR(TakeToken(principal.id));
  }
  if (!Allows(principal, access)) {
    return PermissionDenied(
        absl::StrCat(principal.id, " has no role that allows this method"));
  }
  return principal;
}

std::shared_ptr<grpc::ServerCredentials> Authenticator::ServerCredentials()
    const {
  if (tls_cert_.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      tls_client_ca_.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls_client_ca_;
  options.pem_key_cert_pairs.push_back({tls_key_, tls_cert_});
  return grpc::SslServerCredentials(options);
}

NewToken MakeToken(absl::string_view key_id) {
  NewToken result;
  const std::string secret = RandomHex(24);
  result.token = absl::StrCat(key_id, ".", secret);
  result.key.set_key_id(std::string(key_id));
  result.key.set_salt(RandomHex(16));
  result.key.set_sha256(Sha256Hex(result.key.salt(), secret));
  return result;
}

}  // namespace accord
