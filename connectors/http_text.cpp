#include "connectors/http_text.hpp"

#include <algorithm>
#include <cctype>

namespace ewsd::connectors {

bool iequals_prefix(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) ==
                      std::tolower(static_cast<unsigned char>(b));
           });
}

std::string excerpt(std::string body, const std::vector<std::string>& redactions, std::size_t max) {
    for (const std::string& secret : redactions) {
        for (std::size_t pos = 0;
             !secret.empty() && (pos = body.find(secret, pos)) != std::string::npos;) {
            body.replace(pos, secret.size(), "[redacted]");
            pos += 10;
        }
    }
    std::string line;
    for (const char c : body) {
        if (line.size() > max) {
            break;
        }
        const bool space = static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ' ';
        if (!space) {
            line += c;
        } else if (!line.empty() && line.back() != ' ') {
            line += ' ';
        }
    }
    while (!line.empty() && line.back() == ' ') {
        line.pop_back();
    }
    if (line.size() > max) {
        std::size_t cut = max - 3;
        while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) {
            --cut; // not inside a UTF-8 sequence
        }
        line.resize(cut);
        line += "...";
    }
    return line;
}

} // namespace ewsd::connectors
