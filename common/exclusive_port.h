#ifndef ACCORD_COMMON_EXCLUSIVE_PORT_H_
#define ACCORD_COMMON_EXCLUSIVE_PORT_H_

#include <sys/socket.h>

namespace accord {

// Socket options for an HTTP listener (cpp-httplib's set_socket_options)
// that owns its port. httplib's default adds SO_REUSEPORT, with which a
// second process binds the same port without an error and the kernel then
// splits connections between the two: a scrape or a webhook could reach a
// stranger. SO_REUSEADDR alone still lets a restarted process rebind at
// once while old connections sit in TIME_WAIT.
inline void ExclusivePortSocketOptions(int socket) {
  int yes = 1;
  setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

}  // namespace accord

#endif  // ACCORD_COMMON_EXCLUSIVE_PORT_H_
