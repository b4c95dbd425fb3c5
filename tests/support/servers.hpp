#pragma once
// The real servers the delivery tests send to, each a Python script run with
// Debian's /usr/bin/python3 on 127.0.0.1 and an ephemeral port:
// tests/support/smtp_server.py (aiosmtpd; STARTTLS, AUTH, scripted failures)
// and tests/support/webhook_server.py (verifies Standard Webhooks signatures),
// and the feeds read from: tests/support/edfi_server.py (a fake Ed-Fi ODS/API).

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ewsd::testing {

// Runs a server script with --port 0 --port-file until destroyed; `folder`
// holds what it records.
class ScriptServer {
public:
    ScriptServer(const std::string& script, const std::filesystem::path& folder,
                 const std::string& folder_option, const std::vector<std::string>& options)
        : m_folder(folder) {
        using namespace std::chrono_literals;
        std::filesystem::create_directories(m_folder);
        const auto port_file = m_folder / ".port";
        std::filesystem::remove(port_file);
        std::vector<std::string> args = {
            "/usr/bin/python3", std::string(EWSD_SOURCE_DIR) + "/tests/support/" + script,
            "--port",           "0",
            "--port-file",      port_file.string(),
            folder_option,      m_folder.string()};
        args.insert(args.end(), options.begin(), options.end());
        m_child = std::make_unique<Child>(args);
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!std::filesystem::exists(port_file)) {
            if (!m_child->running() || std::chrono::steady_clock::now() > deadline) {
                m_child->kill(SIGKILL);
                throw std::runtime_error(script + " did not start: " + m_child->wait().err);
            }
            std::this_thread::sleep_for(20ms);
        }
        m_port = std::stoi(read_file(port_file));
        std::filesystem::remove(port_file);
    }

    [[nodiscard]] int port() const { return m_port; }
    [[nodiscard]] const std::filesystem::path& folder() const { return m_folder; }

    // The recorded files with this extension, sorted by name.
    [[nodiscard]] std::vector<std::filesystem::path> recorded(const std::string& ext) const {
        std::vector<std::filesystem::path> out;
        for (const auto& entry : std::filesystem::directory_iterator(m_folder)) {
            // Skips the scripts' temporary files (".tmp.eml"), renamed once complete.
            if (entry.path().extension() == ext &&
                !entry.path().filename().string().starts_with(".")) {
                out.push_back(entry.path());
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    std::filesystem::path m_folder;
    std::unique_ptr<Child> m_child;
    int m_port = 0;
};

// smtp_server.py: each accepted message is NNNN.eml (bytes) + NNNN.json (envelope).
class SmtpServer : public ScriptServer {
public:
    SmtpServer(const std::filesystem::path& maildir, const std::vector<std::string>& options)
        : ScriptServer("smtp_server.py", maildir, "--maildir", options) {}

    // Messages stored in a maildir (also after the server is gone).
    static std::size_t count_in(const std::filesystem::path& maildir) {
        std::size_t n = 0;
        for (const auto& entry : std::filesystem::directory_iterator(maildir)) {
            n += entry.path().extension() == ".eml" &&
                 !entry.path().filename().string().starts_with(".");
        }
        return n;
    }

    // The stored files by name: "0001.eml", "0001.json", ...
    [[nodiscard]] std::vector<std::string> stored() const {
        std::vector<std::string> names;
        for (const auto& ext : {".eml", ".json"}) {
            for (const auto& p : recorded(ext)) {
                names.push_back(p.filename().string());
            }
        }
        std::sort(names.begin(), names.end());
        return names;
    }
    [[nodiscard]] std::string message(const std::string& name) const {
        return read_file(folder() / (name + ".eml"));
    }
    [[nodiscard]] nlohmann::json envelope(const std::string& name) const {
        return nlohmann::json::parse(read_file(folder() / (name + ".json")));
    }

    [[nodiscard]] std::vector<std::string> messages() const {
        std::vector<std::string> out;
        for (const auto& p : recorded(".eml")) {
            out.push_back(read_file(p));
        }
        return out;
    }
};

// webhook_server.py: each accepted POST is one JSON file {id, timestamp, body, headers, path}.
class WebhookServer : public ScriptServer {
public:
    WebhookServer(const std::filesystem::path& out, const std::vector<std::string>& options)
        : ScriptServer("webhook_server.py", out, "--out", options) {}

    [[nodiscard]] std::string url(const std::string& path = "/hook") const {
        return "http://127.0.0.1:" + std::to_string(port()) + path;
    }

    [[nodiscard]] std::vector<nlohmann::json> deliveries() const {
        std::vector<nlohmann::json> out;
        for (const auto& p : recorded(".json")) {
            out.push_back(nlohmann::json::parse(read_file(p)));
        }
        return out;
    }
};

// edfi_server.py: a fake Ed-Fi ODS/API serving the <resource>.json files in
// `data`, with /_control/ routes to change data and script failures.
class EdfiServer : public ScriptServer {
public:
    EdfiServer(const std::filesystem::path& data, const std::vector<std::string>& options)
        : ScriptServer("edfi_server.py", data, "--data", options) {}

    // The API root, e.g. "http://127.0.0.1:40253/api".
    [[nodiscard]] std::string root() const {
        return "http://127.0.0.1:" + std::to_string(port()) + "/api";
    }
};

} // namespace ewsd::testing
