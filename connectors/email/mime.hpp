#pragma once
// Renders one notification as an RFC 5322 / MIME message, ready for SMTP DATA.
// Output is deterministic (no random boundary, no clock): the same message
// renders to the same bytes, so a retried delivery sends what the first did.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ewsd::connectors::email {

struct EmailMessage {
    std::string from;            // display form: "Early Warning <ewsd@district.org>"
    std::vector<std::string> to; // bare addresses
    std::vector<std::string> cc;
    std::string subject;    // UTF-8
    std::string text_body;  // UTF-8
    std::string html_body;  // UTF-8; empty -> single text/plain part
    std::string message_id; // without angle brackets, e.g. "referral-12.n-3@ewsd.district.org"
    std::chrono::sys_seconds date;
    // Unstructured text headers, e.g. X-Ewsd-Referral; encoded like the subject.
    std::vector<std::pair<std::string, std::string>> extra_headers;
};

// The whole message with CRLF line endings. Throws std::invalid_argument for a
// message that cannot be rendered safely: CR, LF or NUL in any header value (no
// header injection), a malformed address or Message-ID, invalid UTF-8, no
// recipient, or an extra header that would replace one rendered here.
std::string render_mime(const EmailMessage& message);

// The bare address of a display-form mailbox: "A <a@b>" -> "a@b", "a@b" -> "a@b".
// Throws std::invalid_argument when there is no valid address.
std::string envelope_address(const std::string& from);

// Quoted-printable (RFC 2045 6.7) for UTF-8 text: "\n" and "\r\n" become CRLF
// hard breaks, lines are at most 76 characters with soft breaks, '=' and
// whitespace before a line end are escaped. A lone CR is escaped (=0D). The
// result ends with CRLF only when the text ends with a line break.
std::string encode_quoted_printable(std::string_view text);

// RFC 5322 date-time in UTC: "Tue, 03 Sep 2024 14:05:00 +0000".
std::string format_date(std::chrono::sys_seconds time);

} // namespace ewsd::connectors::email
