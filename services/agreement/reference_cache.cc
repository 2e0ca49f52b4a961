#include "services/agreement/reference_cache.h"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <cerrno>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "accord/institution/v1/institution.pb.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/write_path.h"

namespace accord::agreement {
namespace {

constexpr char kInstitutionPrefix[] = "accord.institution.v1.";
constexpr char kOfficialPrefix[] = "accord.official.v1.";
// Silence this long (no message, no PONG) means the connection is gone.
constexpr absl::Duration kPingEvery = absl::Seconds(1);
constexpr absl::Duration kSilenceLimit = absl::Seconds(3);

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

absl::string_view Text(const redisReply* reply) {
  return absl::string_view(reply->str, reply->len);
}

ReplyPtr CommandArgv(redisContext* context,
                     const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return ReplyPtr(static_cast<redisReply*>(redisCommandArgv(
      context, static_cast<int>(argv.size()), argv.data(), lengths.data())));
}

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
    : redis_(std::move(redis)), cache_(cache), thread_([this] { Run(); }) {}

ReferenceFeed::~ReferenceFeed() {
  stop_ = true;
  thread_.join();
}

bool ReferenceFeed::ShouldWarn() {
  const absl::Time now = absl::Now();
  if (now < quiet_until_) return false;
  quiet_until_ = now + absl::Minutes(1);
  return true;
}

void ReferenceFeed::Run() {
  absl::Duration backoff = absl::Milliseconds(50);
  while (!stop_) {
    const bool subscribed = Session();
    cache_.Suspend();
    if (stop_) break;
    if (subscribed) backoff = absl::Milliseconds(50);
    // Sleep in short steps so Stop is prompt.
    const absl::Time until = absl::Now() + backoff;
    while (!stop_ && absl::Now() < until) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

bool ReferenceFeed::Session() {
  const timeval connect_timeout{1, 0};
  ContextPtr context(redisConnectWithTimeout(redis_.host.c_str(), redis_.port,
                                             connect_timeout));
  if (context == nullptr || context->err != 0) return false;
  const timeval command_timeout{2, 0};
  redisSetTimeout(context.get(), command_timeout);
  redisEnableKeepAlive(context.get());
  if (!redis_.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!redis_.user.empty()) auth.push_back(redis_.user);
    auth.push_back(redis_.password);
    ReplyPtr reply = CommandArgv(context.get(), auth);
    if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
      if (ShouldWarn()) {
        LogWarning("institution event feed: AUTH failed",
                   {{"error", reply != nullptr ? std::string(Text(reply.get()))
                                               : context->errstr}});
      }
      return false;
    }
  }
  const std::vector<std::string> patterns = {
      absl::StrCat(kEventChannelPrefix, kInstitutionPrefix, "*"),
      absl::StrCat(kEventChannelPrefix, kOfficialPrefix, "*")};
  std::vector<std::string> subscribe = {"PSUBSCRIBE"};
  subscribe.insert(subscribe.end(), patterns.begin(), patterns.end());
  // One confirmation per pattern; the first comes back as the reply.
  ReplyPtr confirmed = CommandArgv(context.get(), subscribe);
  for (size_t i = 1;
       confirmed != nullptr && confirmed->type == REDIS_REPLY_ARRAY &&
       i < patterns.size();
       ++i) {
    void* raw = nullptr;
    if (redisGetReply(context.get(), &raw) != REDIS_OK) {
      confirmed.reset();
      break;
    }
    confirmed.reset(static_cast<redisReply*>(raw));
  }
  if (confirmed == nullptr || confirmed->type != REDIS_REPLY_ARRAY) {
    // A Redis user without PSUBSCRIBE on these patterns (deploy/README.md)
    // leaves the cache off: every write asks the institution service.
    if (ShouldWarn()) {
      LogWarning(
          "institution event feed: PSUBSCRIBE failed; the institution cache "
          "stays off",
          {{"error", confirmed != nullptr ? std::string(Text(confirmed.get()))
                                          : std::string(context->errstr)}});
    }
    return false;
  }
  quiet_until_ = absl::InfinitePast();
  // Subscribed to both patterns: every change from now on reaches us, so
  // the cache may start (empty) and fill from the institution service.
  cache_.Serve();
  CountResync();
  LogInfo("institution event feed subscribed");

  absl::Time last_heard = absl::Now();
  absl::Time last_ping = last_heard;
  while (!stop_) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(context.get(), &raw) != REDIS_OK) break;
    if (raw == nullptr) {
      const absl::Time now = absl::Now();
      if (now - last_heard > kSilenceLimit) {
        LogWarning("institution event feed: Redis stopped answering");
        break;
      }
      if (now - last_ping >= kPingEvery) {
        last_ping = now;
        int done = 0;
        if (redisAppendCommand(context.get(), "PING") != REDIS_OK) break;
        while (!done) {
          if (redisBufferWrite(context.get(), &done) != REDIS_OK) break;
        }
        if (!done) break;
      }
      pollfd descriptor{context->fd, POLLIN, 0};
      const int ready = poll(&descriptor, 1, 200);
      if (ready < 0 && errno != EINTR) break;
      if (ready > 0 && redisBufferRead(context.get()) != REDIS_OK) break;
      continue;
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    last_heard = absl::Now();
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 4 &&
        Text(reply->element[0]) == "pmessage") {
      const redisReply* data = reply->element[3];
      events::v1::Event event;
      if (event.ParseFromArray(data->str, static_cast<int>(data->len))) {
        cache_.Apply(event);
      } else {
        // Cannot tell what changed: forget everything rather than guess.
        LogError("institution event feed: undecodable message");
        cache_.Clear();
      }
    }
  }
  if (!stop_) LogWarning("institution event feed: connection lost");
  return true;
}

}  // namespace accord::agreement
