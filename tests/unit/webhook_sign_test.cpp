// connectors/webhook: Standard Webhooks signatures, secrets, Retry-After, sender set-up.
#include "connectors/webhook/webhook.hpp"

#include <functional>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdexcept>

namespace ewsd::connectors::webhook {
namespace {

using namespace std::chrono_literals;

// The reference vector of the Standard Webhooks libraries
// (standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py,
// test_sign_function).
const std::string vector_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const std::string vector_id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t vector_timestamp = 1614265330;
const std::string vector_body = R"({"test": 2432232314})";
const std::string vector_signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// "whsec_" + base64("another secret key")
const std::string other_secret = "whsec_YW5vdGhlciBzZWNyZXQga2V5";

std::string invalid_argument_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(no exception)";
}

// --- sign / signature_header ---

TEST(WebhookSign, MatchesTheStandardWebhooksVector) {
    EXPECT_EQ(sign(vector_secret, vector_id, vector_timestamp, vector_body), vector_signature);
}

TEST(WebhookSign, ChangesWithEverySignedPart) {
    EXPECT_NE(sign(vector_secret, "msg_other", vector_timestamp, vector_body), vector_signature);
    EXPECT_NE(sign(vector_secret, vector_id, vector_timestamp + 1, vector_body), vector_signature);
    EXPECT_NE(sign(vector_secret, vector_id, vector_timestamp, R"({"test": 2432232315})"),
              vector_signature);
    EXPECT_NE(sign(other_secret, vector_id, vector_timestamp, vector_body), vector_signature);
}

TEST(WebhookSign, HeaderWithOneSecretIsOneSignature) {
    EXPECT_EQ(signature_header({vector_secret}, vector_id, vector_timestamp, vector_body),
              vector_signature);
}

TEST(WebhookSign, HeaderWithTwoSecretsIsTwoSpaceSeparatedSignaturesInOrder) {
    const std::string other = sign(other_secret, vector_id, vector_timestamp, vector_body);
    EXPECT_EQ(
        signature_header({vector_secret, other_secret}, vector_id, vector_timestamp, vector_body),
        vector_signature + " " + other);
    EXPECT_EQ(
        signature_header({other_secret, vector_secret}, vector_id, vector_timestamp, vector_body),
        other + " " + vector_signature);
}

TEST(WebhookSign, HeaderWithoutSecretsIsRefused) {
    EXPECT_THROW(signature_header({}, vector_id, vector_timestamp, vector_body),
                 std::invalid_argument);
}

// --- decode_secret ---

TEST(WebhookSecret, DecodesTheKeyAfterThePrefix) {
    const auto key = decode_secret("whsec_aGVsbG8=");
    EXPECT_EQ(std::string(key.begin(), key.end()), "hello");
    EXPECT_EQ(decode_secret(vector_secret).size(), 24u);
}

TEST(WebhookSecret, AcceptsMissingPadding) {
    EXPECT_EQ(decode_secret("whsec_aGVsbG8"), decode_secret("whsec_aGVsbG8="));
    EXPECT_EQ(decode_secret("whsec_aGk"), decode_secret("whsec_aGk="));
    EXPECT_EQ(decode_secret("whsec_aA"), decode_secret("whsec_aA=="));
}

TEST(WebhookSecret, RefusesAMissingPrefixWithoutEchoingTheSecret) {
    const std::string message =
        invalid_argument_message([] { decode_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); });
    EXPECT_EQ(message, "webhook secret must start with 'whsec_' followed by base64");
    EXPECT_EQ(message.find("MfKQ9r8G"), std::string::npos);
    EXPECT_THROW(decode_secret("WHSEC_aGVsbG8="), std::invalid_argument);
    EXPECT_THROW(decode_secret(""), std::invalid_argument);
}

TEST(WebhookSecret, RefusesBadBase64WithoutEchoingTheSecret) {
    for (const std::string secret :
         {"whsec_not base64!", "whsec_aGVs-G8=", "whsec_aGVs_G8=", "whsec_a", "whsec_aGVsb",
          "whsec_aG=sbG8=", "whsec_aGVsbG8===", "whsec_aGk==", " whsec_aGVsbG8="}) {
        // A fixed message cannot contain the secret.
        EXPECT_THAT(invalid_argument_message([&] { decode_secret(secret); }),
                    ::testing::AnyOf("webhook secret is not valid base64 after 'whsec_'",
                                     "webhook secret must start with 'whsec_' followed by base64"))
            << secret;
    }
    EXPECT_EQ(invalid_argument_message([] { decode_secret("whsec_a%b"); }),
              "webhook secret is not valid base64 after 'whsec_'");
}

TEST(WebhookSecret, RefusesAnEmptyKey) {
    EXPECT_EQ(invalid_argument_message([] { decode_secret("whsec_"); }),
              "webhook secret has an empty key after 'whsec_'");
    EXPECT_THROW(decode_secret("whsec_=="), std::invalid_argument);
}

TEST(WebhookSecret, SignRefusesAMalformedSecret) {
    EXPECT_THROW(sign("secret", vector_id, vector_timestamp, vector_body), std::invalid_argument);
    EXPECT_THROW(
        signature_header({vector_secret, "whsec_!"}, vector_id, vector_timestamp, vector_body),
        std::invalid_argument);
}

// --- parse_retry_after ---

// Monday 2024-01-01 12:00:00.500 UTC
const auto now = std::chrono::sys_days(std::chrono::year{2024} / 1 / 1) + 12h + 500ms;

TEST(RetryAfter, ReadsDeltaSeconds) {
    EXPECT_EQ(parse_retry_after("120", now), 120s);
    EXPECT_EQ(parse_retry_after("0", now), 0s);
    EXPECT_EQ(parse_retry_after(" 2 ", now), 2s);
    EXPECT_EQ(parse_retry_after("007", now), 7s);
}

TEST(RetryAfter, CapsHugeDelaysAtAYear) {
    EXPECT_EQ(parse_retry_after("99999999999999999999999", now), std::chrono::hours(24 * 365));
    EXPECT_EQ(parse_retry_after("31536001", now), std::chrono::hours(24 * 365));
}

TEST(RetryAfter, ReadsAnImfFixdateRoundingUp) {
    EXPECT_EQ(parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now), 30s);
    EXPECT_EQ(parse_retry_after("Tue, 02 Jan 2024 12:00:01 GMT", now), 86401s);
}

TEST(RetryAfter, ReadsTheObsoleteDateForms) {
    EXPECT_EQ(parse_retry_after("Monday, 01-Jan-24 12:01:00 GMT", now), 60s);
    EXPECT_EQ(parse_retry_after("Mon Jan  1 12:00:05 2024", now), 5s);
    EXPECT_EQ(parse_retry_after("Mon Jan 1 12:00:05 2024", now), 5s);
}

TEST(RetryAfter, ADateInThePastMeansNow) {
    EXPECT_EQ(parse_retry_after("Sun, 31 Dec 2023 23:59:59 GMT", now), 0s);
    EXPECT_EQ(parse_retry_after("Mon, 01 Jan 2024 12:00:00 GMT", now), 0s);
    EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), 0s);
}

TEST(RetryAfter, RefusesAnythingElse) {
    for (const std::string value :
         {"", "  ", "-1", "+5", "1.5", "2s", "soon", "Mon, 01 Jan 2024 12:00:30 UTC",
          "Mon, 01 Jan 2024 12:00:30", "Mon, 31 Feb 2024 12:00:30 GMT",
          "Mon, 01 Foo 2024 12:00:30 GMT", "Mon, 01 Jan 2024 24:00:00 GMT",
          "Mon, 01 Jan 2024 12:0:30 GMT", "Mon, 1 Jan 2024 12:00:30 GMT", "Mon Jan 1 12:00:05",
          "2024-01-01T12:00:30Z"}) {
        EXPECT_EQ(parse_retry_after(value, now), std::nullopt) << "'" << value << "'";
    }
}

// --- WebhookSender set-up ---

WebhookSettings settings(std::string url, std::vector<std::string> secrets = {vector_secret}) {
    WebhookSettings s;
    s.url = std::move(url);
    s.secrets = std::move(secrets);
    return s;
}

TEST(WebhookSender, AcceptsHttpAndHttpsUrls) {
    EXPECT_NO_THROW(WebhookSender(settings("https://hooks.example.org/ewsd")));
    EXPECT_NO_THROW(WebhookSender(settings("http://127.0.0.1:8080/")));
    EXPECT_NO_THROW(WebhookSender(settings("HTTPS://hooks.example.org")));
}

TEST(WebhookSender, RefusesOtherSchemesAndHostlessUrls) {
    EXPECT_EQ(invalid_argument_message([] { WebhookSender(settings("ftp://example.org/x")); }),
              "webhook URL must start with http:// or https://");
    EXPECT_THROW(WebhookSender(settings("hooks.example.org/ewsd")), std::invalid_argument);
    EXPECT_THROW(WebhookSender(settings("")), std::invalid_argument);
    EXPECT_EQ(invalid_argument_message([] { WebhookSender(settings("https:///path")); }),
              "webhook URL https:///path has no host");
    EXPECT_THROW(WebhookSender(settings("https://example.org/a b")), std::invalid_argument);
}

TEST(WebhookSender, RefusesMissingOrMalformedSecretsWithoutEchoingThem) {
    EXPECT_EQ(invalid_argument_message([] { WebhookSender(settings("https://h.example/", {})); }),
              "webhook https://h.example/: no signing secret");
    const std::string message = invalid_argument_message([] {
        WebhookSender(settings("https://h.example/", {vector_secret, "whsec_bad!secret"}));
    });
    EXPECT_EQ(message, "webhook https://h.example/: secret 2 of 2: webhook secret is not valid "
                       "base64 after 'whsec_'");
}

TEST(WebhookSender, DescribeDropsCredentialsAndQuery) {
    EXPECT_EQ(WebhookSender(settings("https://user:pa55@hooks.example.org:8443/in?token=t0p#x"))
                  .describe(),
              "https://hooks.example.org:8443/in");
    EXPECT_EQ(WebhookSender(settings("http://example.org?key=k")).describe(), "http://example.org");
    EXPECT_EQ(WebhookSender(settings("https://example.org/a/b")).describe(),
              "https://example.org/a/b");
}

TEST(WebhookSender, RefusesAnUnusableMessageId) {
    const WebhookSender sender(settings("http://127.0.0.1:9/"));
    for (const std::string id : {"", "msg 1", "msg\r\nx-injected: 1"}) {
        const DeliveryResult result = sender.post(id, vector_timestamp, vector_body);
        EXPECT_EQ(result.status, DeliveryStatus::failed_permanently) << id;
        EXPECT_NE(result.detail.find("invalid message id"), std::string::npos);
    }
}

} // namespace
} // namespace ewsd::connectors::webhook
