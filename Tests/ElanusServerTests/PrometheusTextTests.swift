import Testing

@testable import ElanusServer

@Suite struct PrometheusTextTests {
    @Test func labelsAreEscapedAndValuesFormatted() {
        var page = PrometheusText()
        page.family("x_total", "counter", "A test.")
        page.sample("x_total", [("collection", "a\"b\\c\nd")], 3)
        page.sample("y", [], 0.25)
        page.sample("z", [], Double.infinity)
        page.sample("w", 7)
        #expect(page.text == "# HELP x_total A test.\n# TYPE x_total counter\nx_total{collection=\"a\\\"b\\\\c\\nd\"} 3\ny 0.25\nz +Inf\nw 7\n")
    }

    @Test func histogramBucketsAreCumulative() {
        let metrics = RequestMetrics()
        for seconds in [0.0005, 0.003, 0.003, 30] { metrics.record(route: "entities/search", code: 0, seconds: seconds) }
        metrics.record(route: "entities/search", code: 100, seconds: 0.0001)
        var page = PrometheusText()
        metrics.write(to: &page)
        #expect(page.text.contains("elanus_requests_total{route=\"entities/search\",code=\"0\"} 4\n"))
        #expect(page.text.contains("elanus_requests_total{route=\"entities/search\",code=\"100\"} 1\n"))
        #expect(page.text.contains("le=\"0.001\"} 2\n"))
        #expect(page.text.contains("le=\"0.005\"} 4\n"))
        #expect(page.text.contains("le=\"25\"} 4\n"))
        #expect(page.text.contains("le=\"+Inf\"} 5\n"))
        #expect(page.text.contains("elanus_request_duration_seconds_count{route=\"entities/search\"} 5\n"))
    }
}
