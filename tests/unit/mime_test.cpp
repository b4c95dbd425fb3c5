#include "connectors/email/mime.hpp"
#include "tests/support/python_email.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <random>

using namespace ewsd::connectors::email;
using namespace std::chrono;
using ewsd::testing::parse_with_python;

namespace {

EmailMessage sample_message() {
    EmailMessage message;
    message.from = "Early Warning <ewsd@district.org>";
    message.to = {"counselor@school.district.org", "principal@school.district.org"};
    message.cc = {"records@district.org"};
    message.subject = "Attendance alert: Zoë Müller — 3 absences in 5 days";
    message.text_body = "Zoë has been absent 3 times.\n"
                        ".\n"
                        ".starts with a dot\n"
                        "..two dots\n"
                        "trailing spaces   \n"
                        "trailing tab\t\n"
                        "a=b and =41 and =?utf-8?B?eA==?=\n"
                        "\n" +
                        std::string(200, 'x') + "\n" + std::string(90, 'y') + " " +
                        std::string(90, 'z') + "\n" + "élève 日本語 🎓 " + std::string(60, 'e') +
                        "é\n"
                        "--=_ewsd_0000 looks like a boundary\n"
                        "no final newline";
    message.html_body = "<p>Zoë has been absent <b>3</b> times.</p>\n"
                        "<p style=\"color: red\">" +
                        std::string(150, 'h') + "</p>\n.\n";
    message.message_id = "referral-12.n-3@ewsd.district.org";
    message.date = sys_days{2024y / September / 3} + 14h + 5min + 7s;
    message.extra_headers = {{"X-Ewsd-Referral", "12"}};
    return message;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find("\r\n", start);
        lines.push_back(text.substr(start, end - start));
        start = end == std::string::npos ? text.size() : end + 2;
    }
    return lines;
}

// Every line ends in CRLF (no bare CR or LF) and fits in 76 columns.
void expect_wire_format(const std::string& text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n') {
            ASSERT_TRUE(i > 0 && text[i - 1] == '\r') << "bare LF at " << i;
        }
        if (text[i] == '\r') {
            ASSERT_TRUE(i + 1 < text.size() && text[i + 1] == '\n') << "bare CR at " << i;
        }
    }
    for (const auto& line : lines_of(text)) {
        EXPECT_LE(line.size(), 76u) << line;
    }
}

// A plain decoder, to check the encoder without Python.
std::string decode_quoted_printable(const std::string& encoded) {
    std::string out;
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        if (encoded.compare(i, 3, "=\r\n") == 0) {
            i += 2;
        } else if (encoded[i] == '=') {
            out += static_cast<char>(std::stoi(encoded.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else if (encoded.compare(i, 2, "\r\n") == 0) {
            out += '\n';
            ++i;
        } else {
            out += encoded[i];
        }
    }
    return out;
}

std::string normalized_newlines(std::string text) {
    for (auto pos = text.find("\r\n"); pos != std::string::npos; pos = text.find("\r\n", pos)) {
        text.erase(pos, 1);
    }
    return text;
}

} // namespace

TEST(MimeTest, MultipartMessageReadsBackExactly) {
    const auto message = sample_message();
    const auto rendered = render_mime(message);
    expect_wire_format(rendered);
    EXPECT_TRUE(rendered.ends_with("\r\n"));

    const auto parsed = parse_with_python(rendered);
    EXPECT_EQ(parsed["defects"], nlohmann::json::array());
    EXPECT_EQ(parsed["subject"], message.subject);
    EXPECT_EQ(parsed["from_name"], "Early Warning");
    EXPECT_EQ(parsed["from_address"], "ewsd@district.org");
    EXPECT_EQ(parsed["to"], nlohmann::json(message.to));
    EXPECT_EQ(parsed["cc"], nlohmann::json(message.cc));
    EXPECT_EQ(parsed["message_id"], "<referral-12.n-3@ewsd.district.org>");
    EXPECT_EQ(parsed["date"], "2024-09-03T14:05:07+00:00");
    EXPECT_TRUE(parsed["multipart"]);
    EXPECT_EQ(parsed["content_type"], "multipart/alternative");
    ASSERT_EQ(parsed["parts"].size(), 2u);
    const auto& text = parsed["parts"][0];
    const auto& html = parsed["parts"][1];
    EXPECT_EQ(text["type"], "text/plain");
    EXPECT_EQ(html["type"], "text/html");
    for (const auto& part : {text, html}) {
        EXPECT_EQ(part["charset"], "utf-8");
        EXPECT_EQ(part["encoding"], "quoted-printable");
    }
    EXPECT_EQ(text["body"], message.text_body);
    EXPECT_EQ(html["body"], message.html_body);

    bool has_referral = false;
    for (const auto& header : parsed["headers"]) {
        has_referral = has_referral || header == nlohmann::json({"X-Ewsd-Referral", "12"});
        EXPECT_NE(header[0], "Bcc");
    }
    EXPECT_TRUE(has_referral);
    EXPECT_NE(rendered.find("\r\nMIME-Version: 1.0\r\n"), std::string::npos);
    EXPECT_NE(rendered.find("Date: Tue, 03 Sep 2024 14:05:07 +0000\r\n"), std::string::npos);
}

TEST(MimeTest, RenderingIsDeterministic) {
    const auto message = sample_message();
    EXPECT_EQ(render_mime(message), render_mime(message));
    auto other = message;
    other.text_body += "!";
    const auto boundary_of = [](const std::string& rendered) {
        const auto start = rendered.find("boundary=\"") + 10;
        return rendered.substr(start, rendered.find('"', start) - start);
    };
    EXPECT_NE(boundary_of(render_mime(message)), boundary_of(render_mime(other)));
    EXPECT_TRUE(boundary_of(render_mime(message)).starts_with("=_ewsd_"));
}

TEST(MimeTest, SubjectsReadBackExactly) {
    const std::vector<std::string> subjects = {
        "Plain ASCII",
        "",
        // Long ASCII with spaces: folded at the spaces.
        "Weekly summary: " + std::string(40, 'a') + " " + std::string(30, 'b') + " and " +
            std::string(50, 'c') + " more words to go past one line " + std::string(20, 'd'),
        // One long word cannot be folded plainly.
        std::string(150, 'w'),
        // Long non-ASCII: many encoded-words, no character split between two.
        "Élève référé — " + std::string(20, 'a') + " 日本語のテキスト 🎓🎓🎓 ÄÖÜäöüß " +
            "ñandú çà et là, encore: éééééééééééééééééééééééééééééééééééé",
        "  leading and  double  spaces and trailing ",
        "looks encoded =?utf-8?q?hello?= but is not",
        "tab\tinside",
        "quote \" backslash \\ colon: semicolon;",
    };
    for (const auto& subject : subjects) {
        auto message = sample_message();
        message.subject = subject;
        const auto rendered = render_mime(message);
        expect_wire_format(rendered);
        const auto parsed = parse_with_python(rendered);
        EXPECT_EQ(parsed["subject"], subject) << rendered.substr(0, rendered.find("Message-ID"));
        EXPECT_EQ(parsed["defects"], nlohmann::json::array()) << subject;
    }
}

TEST(MimeTest, DisplayNamesReadBackExactly) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"Early Warning <ewsd@district.org>", "Early Warning"},
        {"\"Smith, J. \\\"JJ\\\"\" <ewsd@district.org>", "Smith, J. \"JJ\""},
        {"Équipe d'alerte précoce <ewsd@district.org>", "Équipe d'alerte précoce"},
        {"Lycée Jean-Moulin — Vie scolaire <ewsd@district.org>",
         "Lycée Jean-Moulin — Vie scolaire"},
        {"\"Müller, Zoë (CPE)\" <ewsd@district.org>", "Müller, Zoë (CPE)"},
        {"J. Smith <ewsd@district.org>", "J. Smith"},
        {"日本 語 学校 <ewsd@district.org>", "日本 語 学校"},
        {"ewsd@district.org", ""},
        {"<ewsd@district.org>", ""},
        {std::string(30, 'n') + " " + std::string(40, 'm') + " Ü <ewsd@district.org>",
         std::string(30, 'n') + " " + std::string(40, 'm') + " Ü"},
    };
    for (const auto& [from, name] : cases) {
        auto message = sample_message();
        message.from = from;
        const auto rendered = render_mime(message);
        expect_wire_format(rendered);
        const auto parsed = parse_with_python(rendered);
        EXPECT_EQ(parsed["from_name"], name) << from;
        EXPECT_EQ(parsed["from_address"], "ewsd@district.org") << from;
        EXPECT_EQ(parsed["defects"], nlohmann::json::array()) << from;
    }
}

TEST(MimeTest, WithoutHtmlTheMessageIsOneTextPart) {
    const std::vector<std::string> bodies = {"one line, no newline",
                                             "ends with a newline\n",
                                             "",
                                             "x\n.\n",
                                             std::string(100, 'q') + " ",
                                             "tab\t"};
    for (const auto& body : bodies) {
        auto message = sample_message();
        message.html_body.clear();
        message.text_body = body;
        const auto rendered = render_mime(message);
        expect_wire_format(rendered);
        EXPECT_TRUE(rendered.ends_with("\r\n"));
        EXPECT_EQ(rendered.find("multipart"), std::string::npos);
        const auto parsed = parse_with_python(rendered);
        EXPECT_FALSE(parsed["multipart"]);
        EXPECT_EQ(parsed["content_type"], "text/plain");
        ASSERT_EQ(parsed["parts"].size(), 1u);
        EXPECT_EQ(parsed["parts"][0]["charset"], "utf-8");
        EXPECT_EQ(parsed["parts"][0]["body"], body);
        EXPECT_EQ(parsed["defects"], nlohmann::json::array());
    }
}

TEST(MimeTest, LongRecipientListsAreFolded) {
    auto message = sample_message();
    message.to.clear();
    for (int i = 0; i < 12; ++i) {
        message.to.push_back("teacher" + std::to_string(i) + "@school.district.org");
    }
    message.cc.clear();
    const auto rendered = render_mime(message);
    expect_wire_format(rendered);
    const auto parsed = parse_with_python(rendered);
    EXPECT_EQ(parsed["to"], nlohmann::json(message.to));
    EXPECT_EQ(parsed["cc"], nlohmann::json::array());
    EXPECT_EQ(rendered.find("\r\nCc:"), std::string::npos);
}

TEST(MimeTest, HeaderInjectionIsRejected) {
    const auto expect_rejected = [](const std::function<void(EmailMessage&)>& change) {
        auto message = sample_message();
        change(message);
        EXPECT_THROW(static_cast<void>(render_mime(message)), std::invalid_argument);
    };
    expect_rejected([](auto& m) { m.subject = "Hello\r\nBcc: attacker@example.com"; });
    expect_rejected([](auto& m) { m.subject = "Hello\nBcc: attacker@example.com"; });
    expect_rejected([](auto& m) { m.subject = "Hello\rBcc: attacker@example.com"; });
    expect_rejected([](auto& m) { m.subject = std::string("nul\0byte", 8); });
    expect_rejected([](auto& m) { m.from = "Evil\r\nBcc: a@example.com <ewsd@district.org>"; });
    expect_rejected([](auto& m) { m.from = "Name <ewsd@district.org>\r\nBcc: a@example.com"; });
    expect_rejected([](auto& m) { m.to = {"a@example.com\r\nBcc: b@example.com"}; });
    expect_rejected([](auto& m) { m.to = {"a@example.com>, <b@example.com"}; });
    expect_rejected([](auto& m) { m.cc = {"a@example.com, b@example.com"}; });
    expect_rejected([](auto& m) { m.cc = {"Name <a@example.com>"}; });
    expect_rejected([](auto& m) { m.extra_headers = {{"X-Ewsd-Referral", "12\r\nBcc: a@x.org"}}; });
    expect_rejected([](auto& m) { m.extra_headers = {{"X-Ewsd\r\nBcc", "a@x.org"}}; });
    expect_rejected([](auto& m) { m.extra_headers = {{"X-A: b", "c"}}; });
    expect_rejected([](auto& m) { m.extra_headers = {{"", "c"}}; });
    expect_rejected([](auto& m) { m.extra_headers = {{"bcc", "a@x.org"}}; });
    expect_rejected([](auto& m) { m.extra_headers = {{"Content-Type", "text/html"}}; });
    expect_rejected([](auto& m) { m.message_id = "a@b>\r\nBcc: c@d"; });
    expect_rejected([](auto& m) { m.message_id = "<referral-1@ewsd.org>"; });
    expect_rejected([](auto& m) { m.message_id = "no-at-sign"; });
    expect_rejected([](auto& m) { m.message_id = ""; });
}

TEST(MimeTest, InvalidMessagesAreRejected) {
    const auto expect_rejected = [](const std::function<void(EmailMessage&)>& change) {
        auto message = sample_message();
        change(message);
        EXPECT_THROW(static_cast<void>(render_mime(message)), std::invalid_argument);
    };
    expect_rejected([](auto& m) { m.to.clear(), m.cc.clear(); });
    expect_rejected([](auto& m) { m.to = {"not an address"}; });
    expect_rejected([](auto& m) { m.to = {"a@@b.org"}; });
    expect_rejected([](auto& m) { m.to = {"@b.org"}; });
    expect_rejected([](auto& m) { m.from = ""; });
    expect_rejected([](auto& m) { m.from = "Name <>"; });
    expect_rejected([](auto& m) { m.subject = "bad \xC3 utf-8"; });
    expect_rejected([](auto& m) { m.text_body = "bad \xFF utf-8"; });
    expect_rejected([](auto& m) { m.html_body = "bad \xC3\x28 utf-8"; });

    auto only_cc = sample_message();
    only_cc.to.clear();
    const auto rendered = render_mime(only_cc);
    EXPECT_EQ(rendered.find("\r\nTo:"), std::string::npos);
    EXPECT_NE(rendered.find("\r\nCc: records@district.org\r\n"), std::string::npos);
}

TEST(MimeTest, EnvelopeAddress) {
    EXPECT_EQ(envelope_address("Early Warning <ewsd@district.org>"), "ewsd@district.org");
    EXPECT_EQ(envelope_address("ewsd@district.org"), "ewsd@district.org");
    EXPECT_EQ(envelope_address("  ewsd@district.org "), "ewsd@district.org");
    EXPECT_EQ(envelope_address("\"Smith, J <x>\" <j.smith@district.org>"), "j.smith@district.org");
    EXPECT_EQ(envelope_address("Équipe <ewsd@district.org>"), "ewsd@district.org");
    EXPECT_THROW(static_cast<void>(envelope_address("")), std::invalid_argument);
    EXPECT_THROW(static_cast<void>(envelope_address("Name <bad>")), std::invalid_argument);
    EXPECT_THROW(static_cast<void>(envelope_address("Name <a@b.org")), std::invalid_argument);
    EXPECT_THROW(static_cast<void>(envelope_address("a@b.org\r\nRCPT TO:<c@d.org>")),
                 std::invalid_argument);
}

TEST(MimeTest, FormatDate) {
    EXPECT_EQ(format_date(sys_seconds{}), "Thu, 01 Jan 1970 00:00:00 +0000");
    EXPECT_EQ(format_date(sys_days{2024y / February / 29} + 23h + 59min + 59s),
              "Thu, 29 Feb 2024 23:59:59 +0000");
    EXPECT_EQ(format_date(sys_days{2031y / December / 7} + 9h), "Sun, 07 Dec 2031 09:00:00 +0000");
}

TEST(QuotedPrintableTest, EdgeCases) {
    EXPECT_EQ(encode_quoted_printable(""), "");
    EXPECT_EQ(encode_quoted_printable("abc"), "abc");
    EXPECT_EQ(encode_quoted_printable("a=b"), "a=3Db");
    EXPECT_EQ(encode_quoted_printable("a b\tc"), "a b\tc");
    EXPECT_EQ(encode_quoted_printable("trailing \n"), "trailing=20\r\n");
    EXPECT_EQ(encode_quoted_printable("trailing  "), "trailing =20");
    EXPECT_EQ(encode_quoted_printable("tab\t\r\nnext"), "tab=09\r\nnext");
    EXPECT_EQ(encode_quoted_printable("\n"), "\r\n");
    EXPECT_EQ(encode_quoted_printable("a\r\nb\nc"), "a\r\nb\r\nc");
    EXPECT_EQ(encode_quoted_printable("a\rb\r"), "a=0Db=0D");
    EXPECT_EQ(encode_quoted_printable("é"), "=C3=A9");
    EXPECT_EQ(encode_quoted_printable(std::string("\0\x7f~!", 4)), "=00=7F~!");
    EXPECT_EQ(encode_quoted_printable(".\n.."), ".\r\n..");
    // A line may use all 76 columns when nothing follows it...
    EXPECT_EQ(encode_quoted_printable(std::string(76, 'x')), std::string(76, 'x'));
    EXPECT_EQ(encode_quoted_printable(std::string(76, 'x') + "\n"), std::string(76, 'x') + "\r\n");
    // ...otherwise 75 and the soft break.
    EXPECT_EQ(encode_quoted_printable(std::string(77, 'x')), std::string(75, 'x') + "=\r\n" + "xx");
    // An escape is never split by a soft break.
    EXPECT_EQ(encode_quoted_printable(std::string(74, 'x') + "é"),
              std::string(74, 'x') + "=\r\n=C3=A9");
    EXPECT_EQ(encode_quoted_printable(std::string(73, 'x') + "="), std::string(73, 'x') + "=3D");
    EXPECT_EQ(encode_quoted_printable(std::string(74, 'x') + "=y"),
              std::string(74, 'x') + "=\r\n=3Dy");
    // A space before a soft break is followed by '=', so it is not trailing.
    EXPECT_EQ(encode_quoted_printable(std::string(74, 'x') + " yy"),
              std::string(74, 'x') + " =\r\nyy");
    // A trailing space that falls on the break is still escaped.
    EXPECT_EQ(encode_quoted_printable(std::string(74, 'x') + " "),
              std::string(74, 'x') + "=\r\n=20");
}

TEST(QuotedPrintableTest, RandomTextRoundTrips) {
    const std::vector<std::string> pieces = {
        "a",  "Z", " ",  "\t", "=",   ".", "\n", "\r\n",
        "\r", "é", "日", "🎓",  "=3D", "-", "~",  std::string(1, '\0')};
    std::mt19937 random(20240903);
    for (int round = 0; round < 500; ++round) {
        std::string text;
        const int length = static_cast<int>(random() % 400);
        for (int i = 0; i < length; ++i) {
            // Long runs of one piece make long lines.
            const auto& piece = pieces[random() % pieces.size()];
            const int repeat = random() % 4 == 0 ? static_cast<int>(random() % 90) : 1;
            for (int k = 0; k < repeat; ++k) {
                text += piece;
            }
        }
        const auto encoded = encode_quoted_printable(text);
        expect_wire_format(encoded);
        for (const auto& line : lines_of(encoded)) {
            ASSERT_FALSE(!line.empty() && (line.back() == ' ' || line.back() == '\t')) << line;
            for (const char c : line) {
                ASSERT_TRUE((c >= 32 && c < 127) || c == '\t') << static_cast<int>(c);
            }
        }
        ASSERT_EQ(decode_quoted_printable(encoded), normalized_newlines(text));
    }
}
