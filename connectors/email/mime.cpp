#include "connectors/email/mime.hpp"

#include "util/sha256.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <stdexcept>

namespace ewsd::connectors::email {
namespace {

// RFC 2045's limit for quoted-printable lines, also used for headers (RFC 5322: 78).
constexpr std::size_t max_line = 76;
// "=?utf-8?B?" and "?=" around the base64 text of an encoded-word.
constexpr std::string_view word_prefix = "=?utf-8?B?";
constexpr std::size_t word_overhead = word_prefix.size() + 2;

[[noreturn]] void invalid(std::string_view field, const std::string& what) {
    throw std::invalid_argument("email " + std::string(field) + ": " + what);
}

// The value as it can be shown in an error message: control bytes escaped.
std::string shown(std::string_view value) {
    std::string out = "'";
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            std::array<char, 8> buf{};
            std::snprintf(buf.data(), buf.size(), "\\x%02X", u);
            out += buf.data();
        } else {
            out += c;
        }
    }
    return out + "'";
}

bool is_printable_ascii(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
}

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext.
bool is_atext(char c) {
    return is_alnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// No header injection: a header value never carries its own line break. The
// value is not quoted in the message: a subject may name a student, and this
// message goes to logs and the audit table.
void check_header_text(std::string_view field, std::string_view value) {
    const auto bad = value.find_first_of(std::string_view("\r\n\0", 3));
    if (bad != std::string_view::npos) {
        invalid(field, "line break or NUL in header value (byte " + std::to_string(bad + 1) + ")");
    }
    const auto invalid_utf8 = util::find_invalid_utf8(value);
    if (invalid_utf8 != std::string_view::npos) {
        invalid(field,
                "header value is not valid UTF-8 (byte " + std::to_string(invalid_utf8 + 1) + ")");
    }
}

// A bare addr-spec with a dot-atom local part and a host name: what SMTP's
// envelope and our headers both take without quoting.
void check_address(std::string_view field, std::string_view address) {
    const auto at = address.find('@');
    bool ok = at != std::string_view::npos && at > 0 && at + 1 < address.size() &&
              address.find('@', at + 1) == std::string_view::npos;
    for (std::size_t i = 0; ok && i < address.size(); ++i) {
        const char c = address[i];
        ok = i < at ? (is_atext(c) || c == '.') : (i == at || is_alnum(c) || c == '-' || c == '.');
    }
    if (!ok) {
        invalid(field, "invalid address " + shown(address));
    }
}

void check_message_id(std::string_view id) {
    const auto at = id.find('@');
    bool ok = at != std::string_view::npos && at > 0 && at + 1 < id.size() &&
              id.find('@', at + 1) == std::string_view::npos;
    for (std::size_t i = 0; ok && i < id.size(); ++i) {
        ok = i == at || is_atext(id[i]) || id[i] == '.';
    }
    if (!ok) {
        invalid("Message-ID", "invalid id " + shown(id) + " (want left@right, no angle brackets)");
    }
}

struct Mailbox {
    std::string name;
    std::string address;
};

Mailbox parse_mailbox(std::string_view field, std::string_view text) {
    check_header_text(field, text);
    const auto trimmed = util::trim(text);
    Mailbox mailbox;
    if (trimmed.empty() || trimmed.back() != '>') {
        mailbox.address = trimmed;
    } else {
        const auto open = trimmed.rfind('<');
        if (open == std::string_view::npos) {
            invalid(field, "invalid mailbox " + shown(text));
        }
        mailbox.address = trimmed.substr(open + 1, trimmed.size() - open - 2);
        auto name = util::trim(trimmed.substr(0, open));
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
            name = name.substr(1, name.size() - 2);
            for (std::size_t i = 0; i < name.size(); ++i) {
                if (name[i] == '\\' && i + 1 < name.size()) {
                    ++i;
                }
                mailbox.name += name[i];
            }
        } else {
            mailbox.name = name;
        }
    }
    check_address(field, mailbox.address);
    return mailbox;
}

std::size_t utf8_length(char lead) {
    const auto u = static_cast<unsigned char>(lead);
    return u < 0x80 ? 1 : u < 0xe0 ? 2 : u < 0xf0 ? 3 : 4;
}

// RFC 2047 B encoded-words of whole UTF-8 characters (a decoder may not join a
// character split across words). The first word fits in `first_room` columns,
// the others on a continuation line of their own.
std::vector<std::string> encoded_words(std::string_view text, std::size_t first_room) {
    const auto bytes_for = [](std::size_t room) -> std::size_t {
        return room > word_overhead ? (room - word_overhead) / 4 * 3 : 0;
    };
    std::size_t max_bytes = bytes_for(first_room);
    if (max_bytes < 4) {
        max_bytes = bytes_for(max_line - 1);
    }
    std::vector<std::string> words;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = pos;
        while (end < text.size() && end + utf8_length(text[end]) - pos <= max_bytes) {
            end += utf8_length(text[end]);
        }
        words.push_back(std::string(word_prefix) + util::base64(text.substr(pos, end - pos)) +
                        "?=");
        pos = end;
        max_bytes = bytes_for(max_line - 1);
    }
    return words;
}

std::vector<std::string> split_spaces(std::string_view text) {
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto space = std::min(text.find(' ', start), text.size());
        words.emplace_back(text.substr(start, space - start));
        start = space + 1;
    }
    return words;
}

// Text that can stand in a header as it is: printable ASCII words separated by
// single spaces, and nothing a decoder could take for an encoded-word.
bool is_plain_text(std::string_view text) {
    for (const char c : text) {
        if (!is_printable_ascii(c)) {
            return false;
        }
    }
    return !text.empty() && text.front() != ' ' && text.back() != ' ' &&
           text.find("  ") == std::string_view::npos && text.find("=?") == std::string_view::npos;
}

std::size_t room_after(std::string_view name) {
    const std::size_t used = name.size() + 2; // "Name: "
    return used < max_line ? max_line - used : 0;
}

// "Name: token token\r\n token\r\n": tokens joined by single spaces, folded
// before a token that would pass the line limit (unfolding restores the text).
std::string fold(std::string_view name, const std::vector<std::string>& tokens) {
    std::string out(name);
    out += ':';
    std::size_t column = out.size();
    for (const auto& token : tokens) {
        if (column + 1 + token.size() > max_line) {
            out += "\r\n";
            column = 0;
        }
        out += ' ';
        out += token;
        column += 1 + token.size();
    }
    return out + "\r\n";
}

bool lines_fit(std::string_view header) {
    std::size_t start = 0;
    while (start < header.size()) {
        const auto end = header.find("\r\n", start);
        if (end - start > max_line) {
            return false;
        }
        start = end + 2;
    }
    return true;
}

std::string unstructured_header(std::string_view name, std::string_view value) {
    check_header_text(name, value);
    if (is_plain_text(value)) {
        auto header = fold(name, split_spaces(value));
        if (lines_fit(header)) {
            return header;
        }
    }
    return fold(name, encoded_words(value, room_after(name)));
}

bool is_plain_phrase(std::string_view name) {
    if (!is_plain_text(name)) {
        return false;
    }
    for (const char c : name) {
        if (c != ' ' && !is_atext(c)) {
            return false;
        }
    }
    return true;
}

bool is_quotable(std::string_view name) {
    for (const char c : name) {
        if (!is_printable_ascii(c)) {
            return false;
        }
    }
    return name.size() < max_line / 2 && name.find("=?") == std::string_view::npos;
}

bool is_atom(std::string_view word) {
    return !word.empty() && std::all_of(word.begin(), word.end(), is_atext) &&
           word.find("=?") == std::string_view::npos;
}

// A display name with non-ASCII text: atoms stay as they are, each run of other
// words becomes encoded-words. Adjacent encoded-words are only needed for a run
// longer than one word holds: RFC 2047 decoders drop the space between them,
// but Python's phrase parser keeps it.
std::vector<std::string> encoded_phrase(std::string_view name, std::size_t first_room) {
    const auto words = split_spaces(name);
    if (std::any_of(words.begin(), words.end(), [](const auto& w) { return w.empty(); })) {
        return encoded_words(name, first_room); // odd spacing: keep it exactly
    }
    std::vector<std::string> tokens;
    std::string run;
    const auto flush = [&] {
        if (!run.empty()) {
            const auto encoded = encoded_words(run, tokens.empty() ? first_room : max_line - 1);
            tokens.insert(tokens.end(), encoded.begin(), encoded.end());
            run.clear();
        }
    };
    for (const auto& word : words) {
        if (is_atom(word)) {
            flush();
            tokens.push_back(word);
        } else {
            run += run.empty() ? word : " " + word;
        }
    }
    flush();
    return tokens;
}

std::string mailbox_header(std::string_view name, const Mailbox& mailbox) {
    std::vector<std::string> tokens;
    if (mailbox.name.empty()) {
        // Only the address.
    } else if (is_plain_phrase(mailbox.name)) {
        tokens = split_spaces(mailbox.name);
    } else if (is_quotable(mailbox.name)) {
        std::string quoted = "\"";
        for (const char c : mailbox.name) {
            if (c == '"' || c == '\\') {
                quoted += '\\';
            }
            quoted += c;
        }
        tokens = {quoted + '"'};
    } else {
        tokens = encoded_phrase(mailbox.name, room_after(name));
    }
    tokens.push_back(mailbox.name.empty() ? mailbox.address : "<" + mailbox.address + ">");
    return fold(name, tokens);
}

std::string address_list_header(std::string_view name, const std::vector<std::string>& addresses) {
    std::vector<std::string> tokens;
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        check_header_text(name, addresses[i]);
        check_address(name, addresses[i]);
        tokens.push_back(addresses[i] + (i + 1 < addresses.size() ? "," : ""));
    }
    return fold(name, tokens);
}

void check_extra_header_name(std::string_view name) {
    static constexpr std::array<std::string_view, 10> rendered_here = {
        "date",    "from",       "to",           "cc",           "bcc",
        "subject", "message-id", "mime-version", "content-type", "content-transfer-encoding"};
    bool ok = !name.empty();
    for (const char c : name) {
        ok = ok && c > ' ' && c < 0x7f && c != ':';
    }
    if (!ok) {
        invalid("header", "invalid header name " + shown(name));
    }
    for (const auto reserved : rendered_here) {
        if (util::iequals(name, reserved)) {
            invalid("header", "extra header " + shown(name) + " would replace a rendered one");
        }
    }
}

void check_body(std::string_view which, std::string_view body) {
    if (util::find_invalid_utf8(body) != std::string_view::npos) {
        invalid(which, "body is not valid UTF-8");
    }
}

std::string part_headers(std::string_view subtype) {
    return "Content-Type: text/" + std::string(subtype) +
           "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n";
}

// Derived from the bodies so that rendering stays deterministic. "=_" can never
// occur in quoted-printable text ('=' starts an escape or a soft break), so the
// boundary cannot collide with a body line; the loop guards that reasoning.
std::string make_boundary(std::string_view text, std::string_view html) {
    util::Sha256 hash;
    hash.update(text);
    hash.update(std::string_view("\0", 1));
    hash.update(html);
    const std::string base = "=_ewsd_" + hash.hex_digest().substr(0, 32);
    std::string boundary = base;
    for (int n = 1; text.find(boundary) != std::string_view::npos ||
                    html.find(boundary) != std::string_view::npos;
         ++n) {
        boundary = base + "_" + std::to_string(n);
    }
    return boundary;
}

} // namespace

std::string encode_quoted_printable(std::string_view text) {
    static constexpr std::string_view hex = "0123456789ABCDEF";
    const auto is_break = [&](std::size_t i) {
        return text[i] == '\n' || (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n');
    };
    std::string out;
    out.reserve(text.size() + text.size() / 8 + 16);
    std::size_t column = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (is_break(i)) {
            i += text[i] == '\r' ? 1 : 0;
            out += "\r\n";
            column = 0;
            continue;
        }
        const char c = text[i];
        const auto u = static_cast<unsigned char>(c);
        const bool last_on_line = i + 1 == text.size() || is_break(i + 1);
        // Whitespace before a line end would be stripped in transport (RFC 2045 6.7 (3)).
        const bool literal =
            (u >= 33 && u <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last_on_line);
        const std::size_t width = literal ? 1 : 3;
        // A soft break needs a column for its '=' unless the line ends here anyway.
        if (column + width > (last_on_line ? max_line : max_line - 1)) {
            out += "=\r\n";
            column = 0;
        }
        if (literal) {
            out += c;
        } else {
            out += '=';
            out += hex[u >> 4];
            out += hex[u & 0x0f];
        }
        column += width;
    }
    return out;
}

std::string format_date(std::chrono::sys_seconds time) {
    static constexpr std::array<const char*, 7> weekdays = {"Sun", "Mon", "Tue", "Wed",
                                                            "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> months = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto day = std::chrono::floor<std::chrono::days>(time);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss clock{time - day};
    std::array<char, 64> buf{};
    std::snprintf(
        buf.data(), buf.size(), "%s, %02u %s %04d %02d:%02d:%02d +0000",
        weekdays[std::chrono::weekday{day}.c_encoding()], unsigned{ymd.day()},
        months[unsigned{ymd.month()} - 1], int{ymd.year()}, static_cast<int>(clock.hours().count()),
        static_cast<int>(clock.minutes().count()), static_cast<int>(clock.seconds().count()));
    return buf.data();
}

std::string envelope_address(const std::string& from) {
    return parse_mailbox("From", from).address;
}

std::string render_mime(const EmailMessage& message) {
    if (message.to.empty() && message.cc.empty()) {
        invalid("To", "no recipient");
    }
    check_message_id(message.message_id);
    check_body("text", message.text_body);
    check_body("html", message.html_body);

    std::string out = "Date: " + format_date(message.date) + "\r\n";
    out += mailbox_header("From", parse_mailbox("From", message.from));
    if (!message.to.empty()) {
        out += address_list_header("To", message.to);
    }
    if (!message.cc.empty()) {
        out += address_list_header("Cc", message.cc);
    }
    out += unstructured_header("Subject", message.subject);
    out += "Message-ID: <" + message.message_id + ">\r\n";
    for (const auto& [name, value] : message.extra_headers) {
        check_extra_header_name(name);
        out += unstructured_header(name, value);
    }
    out += "MIME-Version: 1.0\r\n";

    const std::string text = encode_quoted_printable(message.text_body);
    if (message.html_body.empty()) {
        out += part_headers("plain") + "\r\n" + text;
        // SMTP needs the data to end with CRLF; a soft break adds one without
        // adding a line break to a body that has no final one.
        if (!text.empty() && !text.ends_with("\r\n")) {
            out += "=\r\n";
        }
        return out;
    }
    const std::string html = encode_quoted_printable(message.html_body);
    const std::string boundary = make_boundary(text, html);
    out += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n\r\n";
    // The CRLF before each delimiter belongs to the delimiter (RFC 2046 5.1.1).
    out += "--" + boundary + "\r\n" + part_headers("plain") + "\r\n" + text + "\r\n";
    out += "--" + boundary + "\r\n" + part_headers("html") + "\r\n" + html + "\r\n";
    out += "--" + boundary + "--\r\n";
    return out;
}

} // namespace ewsd::connectors::email
