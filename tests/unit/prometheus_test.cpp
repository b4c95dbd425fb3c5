#include "daemon/prometheus.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <limits>
#include <stdexcept>

namespace ewsd::daemon {
namespace {

TEST(PrometheusText, WritesFamiliesAndSamples) {
    PrometheusText text;
    text.family("ewsd_up", "Whether the daemon is up.", "gauge");
    text.sample("ewsd_up", 1);
    text.family("ewsd_deliveries_total", "Notifications delivered, by channel.", "counter");
    text.sample("ewsd_deliveries_total", {{"channel", "email"}}, 12);
    text.sample("ewsd_deliveries_total", {{"channel", "webhook"}, {"result", "ok"}}, 3);

    EXPECT_EQ(text.text(), "# HELP ewsd_up Whether the daemon is up.\n"
                           "# TYPE ewsd_up gauge\n"
                           "ewsd_up 1\n"
                           "# HELP ewsd_deliveries_total Notifications delivered, by channel.\n"
                           "# TYPE ewsd_deliveries_total counter\n"
                           "ewsd_deliveries_total{channel=\"email\"} 12\n"
                           "ewsd_deliveries_total{channel=\"webhook\",result=\"ok\"} 3\n");
}

TEST(PrometheusText, EmptyIsEmpty) {
    EXPECT_EQ(PrometheusText().text(), "");
    EXPECT_STREQ(PrometheusText::content_type, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(PrometheusText, EscapesHelpBackslashAndNewlineButNotQuotes) {
    PrometheusText text;
    text.family("m", "a \"quoted\" C:\\path\nsecond line", "gauge");
    EXPECT_EQ(text.text(), "# HELP m a \"quoted\" C:\\\\path\\nsecond line\n# TYPE m gauge\n");
}

TEST(PrometheusText, EscapesLabelValues) {
    PrometheusText text;
    text.family("ewsd_feed_errors", "Errors by feed.", "gauge");
    text.sample("ewsd_feed_errors", {{"feed", "a\\b \"c\"\nd"}}, 2);
    EXPECT_EQ(text.text(), "# HELP ewsd_feed_errors Errors by feed.\n"
                           "# TYPE ewsd_feed_errors gauge\n"
                           "ewsd_feed_errors{feed=\"a\\\\b \\\"c\\\"\\nd\"} 2\n");
}

TEST(PrometheusText, FormatsIntegersWithoutExponentOrDecimals) {
    EXPECT_EQ(format_prometheus_value(0), "0");
    EXPECT_EQ(format_prometheus_value(-0.0), "0");
    EXPECT_EQ(format_prometheus_value(42), "42");
    EXPECT_EQ(format_prometheus_value(-7), "-7");
    EXPECT_EQ(format_prometheus_value(1732400000), "1732400000");
    EXPECT_EQ(format_prometheus_value(9007199254740991.0), "9007199254740991");
}

TEST(PrometheusText, FormatsOtherValuesSoTheyReadBackTheSame) {
    EXPECT_EQ(format_prometheus_value(0.5), "0.5");
    EXPECT_EQ(format_prometheus_value(0.1), "0.1");
    EXPECT_EQ(format_prometheus_value(1732400000.25), "1732400000.25");
    EXPECT_EQ(format_prometheus_value(1e-9), "1e-09");
    EXPECT_EQ(format_prometheus_value(1e300), "1e+300");
    const double third = 1.0 / 3.0;
    EXPECT_EQ(std::stod(format_prometheus_value(third)), third);
}

TEST(PrometheusText, FormatsNanAndInfinities) {
    EXPECT_EQ(format_prometheus_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(format_prometheus_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_prometheus_value(-std::numeric_limits<double>::infinity()), "-Inf");

    PrometheusText text;
    text.family("ewsd_ratio", "A ratio.", "gauge");
    text.sample("ewsd_ratio", std::nan(""));
    EXPECT_TRUE(text.text().ends_with("ewsd_ratio NaN\n"));
}

TEST(PrometheusText, RefusesAFamilyTwiceAndSamplesOutsideTheirFamily) {
    PrometheusText text;
    EXPECT_THROW(text.sample("ewsd_up", 1), std::logic_error);
    text.family("ewsd_up", "Up.", "gauge");
    text.family("ewsd_other", "Other.", "gauge");
    EXPECT_THROW(text.family("ewsd_up", "Up again.", "gauge"), std::logic_error);
    EXPECT_THROW(text.sample("ewsd_up", 1), std::logic_error);
}

TEST(PrometheusText, RefusesBadNamesAndTypes) {
    PrometheusText text;
    EXPECT_THROW(text.family("1abc", "", "gauge"), std::invalid_argument);
    EXPECT_THROW(text.family("ewsd-up", "", "gauge"), std::invalid_argument);
    EXPECT_THROW(text.family("ewsd_up", "", "histogram"), std::invalid_argument);
    text.family("ewsd:up", "Colons are allowed in metric names.", "gauge");
    EXPECT_THROW(text.sample("ewsd:up", {{"a:b", "x"}}, 1), std::invalid_argument);
    EXPECT_THROW(text.sample("ewsd:up", {{"__name__", "x"}}, 1), std::invalid_argument);
    // A refused sample writes nothing.
    EXPECT_EQ(text.text(), "# HELP ewsd:up Colons are allowed in metric names.\n"
                           "# TYPE ewsd:up gauge\n");
}

} // namespace
} // namespace ewsd::daemon
