#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace ewsd::util {

// Incremental SHA-256, hex digest.
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(std::string_view bytes);
    std::string hex_digest();

private:
    struct State;
    std::unique_ptr<State> m_state;
};

// Digest of a whole file, read in blocks; throws std::runtime_error when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

} // namespace ewsd::util
