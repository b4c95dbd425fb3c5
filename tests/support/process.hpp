#pragma once
// Runs the real ewsd binary (or any program) as a child process.

#include <chrono>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace ewsd::testing {

struct ProcessResult {
    int exit_code = -1; // -1 when killed by a signal
    std::string out;
    std::string err;
};

// A running child with its stdout and stderr on pipes.
class Child {
public:
    explicit Child(const std::vector<std::string>& args) {
        int out_pipe[2];
        int err_pipe[2];
        if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe failed");
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
        std::vector<char*> argv;
        for (const auto& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        const int rc = posix_spawn(&m_pid, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(out_pipe[1]);
        close(err_pipe[1]);
        m_out_fd = out_pipe[0];
        m_err_fd = err_pipe[0];
        if (rc != 0) {
            throw std::runtime_error("cannot start " + args[0]);
        }
    }
    ~Child() {
        if (m_pid > 0) {
            ::kill(m_pid, SIGKILL);
            wait();
        }
        close(m_out_fd);
        close(m_err_fd);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    [[nodiscard]] pid_t pid() const { return m_pid; }

    // Reads output until `text` appears on stderr, the child ends, or time runs out.
    bool wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (m_result.err.find(text) == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !pump(static_cast<int>(left.count()))) {
                return m_result.err.find(text) != std::string::npos;
            }
        }
        return true;
    }

    // What the child wrote to stderr so far (read_output() reads more).
    [[nodiscard]] const std::string& err() const { return m_result.err; }
    // Reads the child's output for up to `timeout`, so that its pipes never fill.
    void read_output(std::chrono::milliseconds timeout) { pump(static_cast<int>(timeout.count())); }

    [[nodiscard]] bool running() const {
        if (m_pid <= 0) {
            return false;
        }
        siginfo_t info{};
        // WNOWAIT leaves an exited child waitable for wait().
        return waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == 0;
    }

    void kill(int signal) { ::kill(m_pid, signal); }

    ProcessResult wait() {
        while (pump(1000)) {
        }
        int status = 0;
        waitpid(m_pid, &status, 0);
        m_pid = -1;
        m_result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return m_result;
    }

private:
    // Reads what is available; false once both pipes are closed.
    bool pump(int timeout_ms) {
        pollfd fds[2] = {{m_out_fd, POLLIN, 0}, {m_err_fd, POLLIN, 0}};
        if (m_out_closed && m_err_closed) {
            return false;
        }
        if (::poll(fds, 2, timeout_ms) <= 0) {
            return true;
        }
        char buf[65536];
        const auto drain = [&](pollfd& p, std::string& into, bool& closed) {
            if (closed || (p.revents & (POLLIN | POLLHUP)) == 0) {
                return;
            }
            const ssize_t n = read(p.fd, buf, sizeof buf);
            if (n <= 0) {
                closed = true;
            } else {
                into.append(buf, static_cast<std::size_t>(n));
            }
        };
        drain(fds[0], m_result.out, m_out_closed);
        drain(fds[1], m_result.err, m_err_closed);
        return true;
    }

    pid_t m_pid = -1;
    int m_out_fd = -1;
    int m_err_fd = -1;
    bool m_out_closed = false;
    bool m_err_closed = false;
    ProcessResult m_result;
};

inline ProcessResult run(const std::vector<std::string>& args) {
    Child child(args);
    return child.wait();
}

} // namespace ewsd::testing
