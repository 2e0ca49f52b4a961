#ifndef ACCORD_SERVICES_NOTIFICATION_TEST_SUPPORT_H_
#define ACCORD_SERVICES_NOTIFICATION_TEST_SUPPORT_H_

// Test helpers shared by the notification integration tests: a webhook
// endpoint in the test process, and a WatchEvents call read on its own
// thread.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "common/exclusive_port.h"
#include "tests/harness/processes.h"

namespace accord::notification::testing {

using ::accord::testing::FreePort;
using v1::WatchEventsResponse;

// One request the receiver got.
struct Received {
  std::string path;
  httplib::Headers headers;
  std::string body;
  absl::Time time;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A webhook endpoint: records every POST and answers per path with a
// scripted status (default 200).
class WebhookReceiver {
 public:
  WebhookReceiver() : port_(FreePort()) {
    server_.Post(R"(/(.*))", [this](const httplib::Request& request,
                                    httplib::Response& response) {
      std::lock_guard<std::mutex> lock(mutex_);
      received_.push_back(
          {request.path, request.headers, request.body, absl::Now()});
      int status = 200;
      auto it = scripts_.find(request.path);
      if (it != scripts_.end() && !it->second.empty()) {
        status = it->second.front();
        if (it->second.size() > 1) it->second.pop_front();
      }
      if (status == 503) response.set_header("Retry-After", "1");
      response.status = status;
      changed_.notify_all();
    });
    server_.set_socket_options(accord::ExclusivePortSocketOptions);
    if (!server_.bind_to_port("127.0.0.1", port_)) {
      throw std::runtime_error(
          absl::StrCat("cannot listen on 127.0.0.1:", port_));
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) absl::SleepFor(absl::Milliseconds(5));
  }
  ~WebhookReceiver() {
    server_.stop();
    thread_.join();
  }

  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }
  // Answers `statuses` in turn on `path`, repeating the last one.
  void Script(const std::string& path, std::deque<int> statuses) {
    std::lock_guard<std::mutex> lock(mutex_);
    scripts_[path] = std::move(statuses);
  }
  std::vector<Received> On(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Received> found;
    for (const Received& received : received_) {
      if (received.path == path) found.push_back(received);
    }
    return found;
  }
  // Waits until `path` got at least `count` requests.
  std::vector<Received> WaitFor(const std::string& path, size_t count,
                                absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      std::vector<Received> found = On(path);
      if (found.size() >= count) return found;
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait_for(lock, std::chrono::milliseconds(50));
    }
    return On(path);
  }

 private:
  int port_;
  httplib::Server server_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Received> received_;
  std::map<std::string, std::deque<int>> scripts_;
};

// A WatchEvents call read on its own thread.
class Watch {
 public:
  // `token`, when set, is sent as the caller's bearer token.
  Watch(v1::NotificationService::Stub& stub, v1::WatchEventsRequest request,
        const std::string& token = "") {
    if (!token.empty()) {
      context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
    reader_ = stub.WatchEvents(&context_, request);
    thread_ = std::thread([this] {
      WatchEventsResponse response;
      while (reader_->Read(&response)) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (response.has_started() && !started_.has_value()) {
          started_ = response.started();
          started_index_ = received_;
        }
        ++received_;
        messages_.push_back(response);
        changed_.notify_all();
      }
      const grpc::Status status = reader_->Finish();
      std::lock_guard<std::mutex> lock(mutex_);
      status_ = status;
      changed_.notify_all();
    });
  }
  ~Watch() {
    context_.TryCancel();
    thread_.join();
  }

  // The next event, skipping heartbeats; nullopt on timeout or end.
  std::optional<events::v1::Event> NextEvent(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      while (!messages_.empty()) {
        WatchEventsResponse message = std::move(messages_.front());
        messages_.pop_front();
        if (message.has_heartbeat()) {
          last_heartbeat_ = message.heartbeat();
          continue;
        }
        if (message.has_started()) continue;
        return message.event();
      }
      if (status_.has_value() || absl::Now() >= deadline) return std::nullopt;
      changed_.wait_for(lock, std::chrono::milliseconds(20));
    }
  }
  std::vector<events::v1::Event> NextEvents(size_t count,
                                            absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    std::vector<events::v1::Event> events;
    while (events.size() < count) {
      std::optional<events::v1::Event> event =
          NextEvent(deadline - absl::Now());
      if (!event.has_value()) break;
      events.push_back(*event);
    }
    return events;
  }
  // The next heartbeat (events before it are dropped).
  std::optional<v1::Heartbeat> NextHeartbeat(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      while (!messages_.empty()) {
        WatchEventsResponse message = std::move(messages_.front());
        messages_.pop_front();
        if (message.has_heartbeat()) return message.heartbeat();
      }
      if (status_.has_value() || absl::Now() >= deadline) return std::nullopt;
      changed_.wait_for(lock, std::chrono::milliseconds(20));
    }
  }
  // The stream's `started` message and its index among all messages
  // received (0: it came first); nullopt if none arrived in time.
  std::optional<std::pair<v1::WatchStarted, int>> WaitStarted(
      absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!started_.has_value() && !status_.has_value() &&
           absl::Now() < deadline) {
      changed_.wait_for(lock, std::chrono::milliseconds(20));
    }
    if (!started_.has_value()) return std::nullopt;
    return std::make_pair(*started_, started_index_);
  }
  std::optional<grpc::Status> WaitStatus(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!status_.has_value() && absl::Now() < deadline) {
      changed_.wait_for(lock, std::chrono::milliseconds(20));
    }
    return status_;
  }
  void Cancel() { context_.TryCancel(); }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<WatchEventsResponse>> reader_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<WatchEventsResponse> messages_;
  std::optional<v1::Heartbeat> last_heartbeat_;
  std::optional<v1::WatchStarted> started_;
  int started_index_ = -1;
  int received_ = 0;
  std::optional<grpc::Status> status_;
};

// The deliveries of subscription `parent` (up to 1,000), optionally
// filtered; a failed call fails the test.
inline std::vector<v1::Delivery> ListDeliveries(
    v1::NotificationService::Stub& stub, const std::string& parent,
    const std::string& filter = "") {
  v1::ListDeliveriesRequest request;
  request.set_parent(parent);
  request.set_filter(filter);
  request.set_page_size(1000);
  v1::ListDeliveriesResponse response;
  grpc::ClientContext context;
  const grpc::Status status = stub.ListDeliveries(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return {response.deliveries().begin(), response.deliveries().end()};
}

// Polls until subscription `parent` has a delivery in `state`.
inline std::optional<v1::Delivery> WaitForDelivery(
    v1::NotificationService::Stub& stub, const std::string& parent,
    v1::Delivery::State state, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    for (const v1::Delivery& delivery : ListDeliveries(stub, parent)) {
      if (delivery.state() == state) return delivery;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return std::nullopt;
}

}  // namespace accord::notification::testing

#endif  // ACCORD_SERVICES_NOTIFICATION_TEST_SUPPORT_H_
