#pragma once
// Reads a rendered message back with Python's email package (Debian's
// /usr/bin/python3, the strict modern policy): the real parser a mail client
// would use, for tests of MIME output.

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <string>

namespace ewsd::testing {

// Python's email package, the strict modern policy, reads the rendered message back.
inline constexpr const char* parse_script = R"py(
import email, email.policy, json, sys
msg = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
def addresses(name):
    return [a.addr_spec for a in msg[name].addresses] if msg[name] else []
parts = list(msg.iter_parts()) if msg.is_multipart() else [msg]
print(json.dumps({
    'subject': str(msg['Subject']),
    'from_name': msg['From'].addresses[0].display_name,
    'from_address': msg['From'].addresses[0].addr_spec,
    'to': addresses('To'),
    'cc': addresses('Cc'),
    'message_id': str(msg['Message-ID']),
    'date': msg['Date'].datetime.isoformat(),
    'headers': [[k, str(v)] for k, v in msg.items()],
    'multipart': msg.is_multipart(),
    'content_type': msg.get_content_type(),
    'parts': [{
        'type': p.get_content_type(),
        'charset': p.get_content_charset(),
        'encoding': p.get('Content-Transfer-Encoding'),
        'body': p.get_payload(decode=True).decode('utf-8').replace('\r\n', '\n'),
    } for p in parts],
    'defects': [type(d).__name__ for p in msg.walk() for d in p.defects],
}))
)py";

// The message's headers, parts (decoded) and defects as JSON; a failure to
// parse is a test failure.
inline nlohmann::json parse_with_python(const std::string& rendered) {
    TempDir dir;
    write_file(dir / "message.eml", rendered);
    const auto result =
        run({"/usr/bin/python3", "-c", parse_script, (dir / "message.eml").string()});
    if (result.exit_code != 0) {
        ADD_FAILURE() << "python could not parse the message: " << result.err << "\n" << rendered;
        return nlohmann::json::object();
    }
    return nlohmann::json::parse(result.out);
}

} // namespace ewsd::testing
