#pragma once
// A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI,
// for tests that run TLS servers.

#include "tests/support/process.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>

namespace ewsd::testing {

struct SelfSignedCert {
    std::filesystem::path cert; // PEM; also the CA file a client must trust
    std::filesystem::path key;  // PEM, unencrypted
};

inline SelfSignedCert make_self_signed_cert(const std::filesystem::path& dir) {
    SelfSignedCert made{dir / "cert.pem", dir / "key.pem"};
    const auto result =
        run({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
             made.key.string(), "-out", made.cert.string(), "-subj", "/CN=localhost", "-addext",
             "subjectAltName=IP:127.0.0.1,DNS:localhost", "-days", "2"});
    if (result.exit_code != 0) {
        throw std::runtime_error("openssl req failed: " + result.err);
    }
    return made;
}

} // namespace ewsd::testing
