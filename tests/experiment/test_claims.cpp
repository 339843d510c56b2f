// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Claims: Student t quantiles against published tables, the three verdicts, parsing and the table.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "config/config.h"
#include "experiment/claims.h"

using namespace detlab;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

TEST_CASE("student t quantiles equal the published table", "[experiment][claims]") {
  // Two-sided 95 % (p = 0.975) and one-sided 95 % critical values (e.g. NIST/SEMATECH e-Handbook, Table 1.3.6.7.2).
  CHECK(student_t_quantile(0.975, 1) == Approx(12.706204736).epsilon(1e-8));
  CHECK(student_t_quantile(0.975, 2) == Approx(4.302652730).epsilon(1e-8));
  CHECK(student_t_quantile(0.975, 4) == Approx(2.776445105).epsilon(1e-8));
  CHECK(student_t_quantile(0.975, 30) == Approx(2.042272456).epsilon(1e-8));
  CHECK(student_t_quantile(0.95, 10) == Approx(1.812461123).epsilon(1e-8));
  CHECK(student_t_quantile(0.975, 1e6) == Approx(1.959966).epsilon(1e-5));  // the normal's 1.96
}

TEST_CASE("claim verdicts from paired per-seed differences", "[experiment][claims]") {
  Claim c;
  c.text = "A > B";
  c.better = "A";
  c.worse = "B";
  // Differences 0.02, 0.03, 0.025: mean 0.025, sd 0.005, t(0.975, 2) se = 4.3027 * 0.005 / sqrt(3) = 0.01242.
  ClaimResult r = judge_claim(c, {0.52, 0.43, 0.625}, {0.50, 0.40, 0.60});
  CHECK(r.n == 3);
  CHECK(r.diff == Approx(0.025));
  CHECK(r.lo == Approx(0.025 - 0.0124207).epsilon(1e-4));
  CHECK(r.hi == Approx(0.025 + 0.0124207).epsilon(1e-4));
  CHECK(r.verdict == Verdict::kHolds);
  // The same numbers the other way round: reversed.
  CHECK(judge_claim(c, {0.50, 0.40, 0.60}, {0.52, 0.43, 0.625}).verdict == Verdict::kReversed);
  // Differences of both signs: inconclusive, although the means differ.
  CHECK(judge_claim(c, {0.55, 0.40, 0.61}, {0.50, 0.42, 0.60}).verdict == Verdict::kInconclusive);
  // Seeds pair up: a missing seed drops the pair; one pair left is never enough.
  const ClaimResult one = judge_claim(c, {0.9, kNaN, 0.8}, {0.1, 0.2, kNaN});
  CHECK(one.n == 1);
  CHECK(one.verdict == Verdict::kInconclusive);
  CHECK(std::isnan(one.lo));
  // ">=" with a margin: slightly lower is still "not worse"; clearly lower is reversed.
  c.at_least = true;
  c.margin = 0.02;
  CHECK(judge_claim(c, {0.50, 0.40, 0.60}, {0.505, 0.405, 0.605}).verdict == Verdict::kHolds);
  CHECK(judge_claim(c, {0.40, 0.30, 0.50}, {0.50, 0.40, 0.60}).verdict == Verdict::kReversed);
}

TEST_CASE("claims are parsed with their keys checked and shown with the method", "[experiment][claims]") {
  const Config node = Config::parse(
      "- {claim: \"gamma 2 > gamma 0\", better: \"gamma=2\", worse: \"gamma=0\", metric: AP, source: \"Table 1b\"}\n"
      "- {claim: \"RPN >= SS\", better: rpn, worse: ss, at_least: true, margin: 0.01}\n",
      "spec.yaml");
  const std::vector<Claim> claims = parse_claims(node);
  REQUIRE(claims.size() == 2);
  CHECK(claims[1].at_least);
  CHECK(claims[1].metric == "AP");
  SeedValues rows;
  rows["gamma=2"]["AP"] = {0.31, 0.30, 0.32};
  rows["gamma=0"]["AP"] = {0.28, 0.28, 0.29};
  const std::vector<ClaimResult> results = judge_claims(claims, rows);
  CHECK(results[0].verdict == Verdict::kHolds);
  CHECK(results[1].problem == "no row 'rpn'");
  const std::string table = format_claims(results);
  CHECK(table.find("| gamma 2 > gamma 0 | Table 1b | AP | gamma=2 0.310 vs gamma=0 0.283 |") != std::string::npos);
  CHECK(table.find("| holds |") != std::string::npos);
  CHECK(table.find("paired Student t interval") != std::string::npos);

  CHECK_THROWS_WITH(parse_claims(Config::parse("- {claim: x, better: a, worse: a}\n", "spec.yaml")),
                    Catch::Contains("compares a row with itself"));
  CHECK_THROWS_WITH(parse_claims(Config::parse("- {claim: x, better: a, worse: b, typo: 1}\n", "spec.yaml")),
                    Catch::Contains("typo"));
}
