// queue.cc — MessageQueue (Queue<T> is all inline in queue.hpp).
#include "ipcsync/queue.hpp"

namespace ipcsync {

MessageQueue::MessageQueue(uint32_t maxsize, uint32_t max_message)
    : ring_(maxsize, stride_for(max_message)), max_message_(max_message) {
  if (maxsize == 0 || maxsize >= 0x80000000u) throw std::invalid_argument("MessageQueue: maxsize must be in 1..2^31-1");
  if (max_message > (1u << 30)) throw std::invalid_argument("MessageQueue: max_message above 1 GiB");
  char* c = cells();
  for (uint32_t i = 0; i < maxsize; ++i) ::new (c + std::size_t{i} * ring_.stride()) detail::atomic<uint64_t>(0);
}

detail::ring_status MessageQueue::put_status(std::string_view msg, deadline until) {
  if (msg.size() > max_message_)
    throw std::length_error("MessageQueue::put(): message of " + std::to_string(msg.size()) +
                            " bytes exceeds max_message " + std::to_string(max_message_));
  auto fill = [&](char* c) {
    const uint32_t n = static_cast<uint32_t>(msg.size());
    std::memcpy(c + kLengthAt, &n, sizeof n);
    if (n) std::memcpy(c + kHeader, msg.data(), n);
  };
  const detail::ring_status st = ring_.put_until(cells(), fill, until);
  if (st == detail::ring_status::closed) throw queue_closed("MessageQueue::put(): the queue is closed");
  return st;
}

void MessageQueue::put(std::string_view msg) { (void)put_status(msg, kNoDeadline); }

void MessageQueue::put(std::string_view msg, bool block, double timeout_s) {
  if (!block) return put_nowait(msg);
  const deadline until = timeout_deadline(timeout_s);
  if (put_status(msg, until) != detail::ring_status::ok)
    throw queue_full("MessageQueue::put(): timed out, the queue is full");
}

bool MessageQueue::try_put(std::string_view msg) {
  if (msg.size() > max_message_) throw std::length_error("MessageQueue::put(): message exceeds max_message");
  if (ring_.closed()) throw queue_closed("MessageQueue::put(): the queue is closed");
  auto fill = [&](char* c) {
    const uint32_t n = static_cast<uint32_t>(msg.size());
    std::memcpy(c + kLengthAt, &n, sizeof n);
    if (n) std::memcpy(c + kHeader, msg.data(), n);
  };
  if (!ring_.try_put(cells(), fill)) return false;
  ring_.after_put();
  return true;
}

void MessageQueue::put_nowait(std::string_view msg) {
  if (!try_put(msg)) throw queue_full("MessageQueue::put_nowait(): the queue is full");
}

bool MessageQueue::try_put_until(std::string_view msg, deadline until) {
  return put_status(msg, until) == detail::ring_status::ok;
}

detail::ring_status MessageQueue::get_status(std::string* out, void* buf, std::size_t* len, deadline until) {
  auto drain = [&](char* c) {
    uint32_t n = 0;
    std::memcpy(&n, c + kLengthAt, sizeof n);
    if (out) out->assign(c + kHeader, n);
    if (buf && n) std::memcpy(buf, c + kHeader, n);
    if (len) *len = n;
  };
  return ring_.get_until(cells(), drain, until);
}

// The drains below copy inside the claimed cell's window, so strings are reserved up front:
// assign() never allocates (or throws) while a cell is claimed.
std::string MessageQueue::get() {
  std::string s;
  s.reserve(max_message_);
  if (get_status(&s, nullptr, nullptr, kNoDeadline) != detail::ring_status::ok)
    throw queue_closed("MessageQueue::get(): the queue is closed and empty");
  return s;
}

std::string MessageQueue::get(bool block, double timeout_s) {
  if (!block) return get_nowait();
  const deadline until = timeout_deadline(timeout_s);
  std::optional<std::string> s = try_get_until(until);
  if (!s) throw queue_empty("MessageQueue::get(): timed out, the queue is empty");
  return *s;
}

std::optional<std::string> MessageQueue::try_get() {
  std::string s;
  s.reserve(max_message_);
  auto drain = [&](char* c) {
    uint32_t n = 0;
    std::memcpy(&n, c + kLengthAt, sizeof n);
    s.assign(c + kHeader, n);
  };
  if (ring_.try_get(cells(), drain)) {
    ring_.after_get();
    return s;
  }
  if (ring_.closed()) throw queue_closed("MessageQueue::get(): the queue is closed and empty");
  return std::nullopt;
}

std::string MessageQueue::get_nowait() {
  std::optional<std::string> s = try_get();
  if (!s) throw queue_empty("MessageQueue::get_nowait(): the queue is empty");
  return *s;
}

std::optional<std::string> MessageQueue::try_get_until(deadline until) {
  std::string s;
  s.reserve(max_message_);
  switch (get_status(&s, nullptr, nullptr, until)) {
    case detail::ring_status::ok:
      return s;
    case detail::ring_status::timed_out:
      return std::nullopt;
    case detail::ring_status::closed:
      break;
  }
  throw queue_closed("MessageQueue::get(): the queue is closed and empty");
}

std::size_t MessageQueue::get_into(void* buf, std::size_t cap) {
  if (cap < max_message_) throw std::length_error("MessageQueue::get_into(): buffer smaller than max_message");
  std::size_t n = 0;
  if (get_status(nullptr, buf, &n, kNoDeadline) != detail::ring_status::ok)
    throw queue_closed("MessageQueue::get(): the queue is closed and empty");
  return n;
}

}  // namespace ipcsync
