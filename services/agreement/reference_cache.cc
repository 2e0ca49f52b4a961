#include "services/agreement/reference_cache.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "accord/institution/v1/institution.pb.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis/keys.h"

namespace accord::agreement {
namespace {

constexpr char kInstitutionPrefix[] = "accord.institution.v1.";
constexpr char kOfficialPrefix[] = "accord.official.v1.";
void CountResync() {
  static const bool described = [] {
    Metrics::Global().Describe(
        "accord_institution_cache_resyncs_total", "counter",
        "Times the institution reference cache started over empty after "
        "(re)subscribing to institution events.");
    return true;
  }();
  (void)described;
  Metrics::Global().Increment("accord_institution_cache_resyncs_total", {});
}

}  // namespace

bool ReferenceCache::Lookup(
    const std::vector<std::string>& institutions,
    const std::vector<std::string>& officials,
    absl::flat_hash_map<std::string, std::string>& countries) const {
  absl::MutexLock lock(&mutex_);
  if (!serving_) return false;
  for (const std::string& name : officials) {
    if (!officials_.contains(name)) return false;
  }
  absl::flat_hash_map<std::string, std::string> found;
  for (const std::string& name : institutions) {
    const auto it = countries_.find(name);
    if (it == countries_.end()) return false;
    found.emplace(name, it->second);
  }
  for (auto& [name, code] : found) countries[name] = std::move(code);
  return true;
}

std::vector<std::string> ReferenceCache::LookupCountries(
    const std::vector<std::string>& institutions,
    absl::flat_hash_map<std::string, std::string>& countries) const {
  absl::MutexLock lock(&mutex_);
  if (!serving_) return institutions;
  std::vector<std::string> missing;
  for (const std::string& name : institutions) {
    const auto it = countries_.find(name);
    if (it == countries_.end()) {
      missing.push_back(name);
    } else {
      countries[name] = it->second;
    }
  }
  return missing;
}

uint64_t ReferenceCache::generation() const {
  absl::MutexLock lock(&mutex_);
  return generation_;
}

void ReferenceCache::Fill(
    uint64_t generation,
    const std::vector<std::pair<std::string, std::string>>& institutions,
    const std::vector<std::string>& officials) {
  absl::MutexLock lock(&mutex_);
  if (!serving_ || generation != generation_) return;
  if (countries_.size() + officials_.size() + institutions.size() +
          officials.size() >
      kMaxEntries) {
    ClearLocked();
    return;
  }
  for (const auto& [name, code] : institutions) countries_[name] = code;
  for (const std::string& name : officials) officials_.insert(name);
  PublishSizeLocked();
}

void ReferenceCache::Apply(const events::v1::Event& event) {
  absl::string_view type = event.type();
  const bool institution = absl::ConsumePrefix(&type, kInstitutionPrefix);
  if (!institution && !absl::ConsumePrefix(&type, kOfficialPrefix)) return;
  absl::MutexLock lock(&mutex_);
  ++generation_;
  if (!institution) {
    // Officials carry nothing the cache keeps but their liveness.
    if (type == "deleted") officials_.erase(event.subject());
    PublishSizeLocked();
    return;
  }
  const auto it = countries_.find(event.subject());
  if (it == countries_.end()) return;
  institution::v1::Institution snapshot;
  if (type == "deleted" || !event.payload().UnpackTo(&snapshot) ||
      snapshot.has_delete_time() || snapshot.country_code().empty()) {
    countries_.erase(it);
    PublishSizeLocked();
    return;
  }
  it->second = snapshot.country_code();
}

void ReferenceCache::Clear() {
  absl::MutexLock lock(&mutex_);
  ClearLocked();
}

void ReferenceCache::Serve() {
  absl::MutexLock lock(&mutex_);
  ClearLocked();
  serving_ = true;
}

void ReferenceCache::Suspend() {
  absl::MutexLock lock(&mutex_);
  ClearLocked();
  serving_ = false;
}

bool ReferenceCache::serving() const {
  absl::MutexLock lock(&mutex_);
  return serving_;
}

size_t ReferenceCache::size() const {
  absl::MutexLock lock(&mutex_);
  return countries_.size() + officials_.size();
}

void ReferenceCache::ClearLocked() {
  ++generation_;
  countries_.clear();
  officials_.clear();
  PublishSizeLocked();
}

void ReferenceCache::PublishSizeLocked() const {
  static const bool described = [] {
    Metrics::Global().Describe(
        "accord_institution_cache_entries", "gauge",
        "Institutions and officials the reference cache holds.");
    return true;
  }();
  (void)described;
  Metrics::Global().SetGauge(
      "accord_institution_cache_entries", {},
      static_cast<double>(countries_.size() + officials_.size()));
}

ReferenceFeed::ReferenceFeed(RedisUrl redis, ReferenceCache& cache)
    : cache_(cache),
      subscriber_(
          RedisSubscriber::Options{
              .url = std::move(redis),
              .name = "institution event feed",
              .patterns = {absl::StrCat(redis_keys::kEventChannelPrefix,
                                        kInstitutionPrefix, "*"),
                           absl::StrCat(redis_keys::kEventChannelPrefix,
                                        kOfficialPrefix, "*")}},
          RedisSubscriber::Callbacks{
              .on_subscribed = [this] { return OnSubscribed(); },
              .on_message =
                  [this](absl::string_view, absl::string_view message) {
                    OnMessage(message);
                  },
              // Events may be missed until the next subscription: whatever
              // is cached could go stale.
              .on_disconnected = [this] { cache_.Suspend(); }}) {
  subscriber_.Start();
}

ReferenceFeed::~ReferenceFeed() { subscriber_.Stop(); }

absl::Status ReferenceFeed::OnSubscribed() {
  // Subscribed to both patterns: every change from now on reaches us, so
  // the cache may start (empty) and fill from the institution service. A
  // Redis user without PSUBSCRIBE on these patterns (deploy/README.md)
  // never gets here: the cache stays off and every write asks the
  // institution service.
  cache_.Serve();
  CountResync();
  return absl::OkStatus();
}

void ReferenceFeed::OnMessage(absl::string_view message) {
  events::v1::Event event;
  if (event.ParseFromArray(message.data(), static_cast<int>(message.size()))) {
    cache_.Apply(event);
  } else {
    // Cannot tell what changed: forget everything rather than guess.
    LogError("institution event feed: undecodable message");
    cache_.Clear();
  }
}

}  // namespace accord::agreement
