// Sprig and Helm functions as charts use them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "renderers/helm/functions.h"
#include "renderers/helm/template.h"

namespace keelson::helm {
namespace {

const FunctionTable& Functions() {
  static const FunctionTable table = MakeHelmFunctions();
  return table;
}

Result<std::string> Run(std::string_view text, const Value& data = Value()) {
  TemplateSet set;
  Status st = set.Parse("t", text, Functions());
  if (!st.ok()) return std::move(st).error();
  Executor ex(Functions(), {});
  return ex.Execute(set, "t", data);
}

std::string Ok(std::string_view text, const Value& data = Value()) {
  auto r = Run(text, data);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? *r : "<error>";
}

std::string Err(std::string_view text, const Value& data = Value()) {
  auto r = Run(text, data);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.error().ToString();
}

Value Values() {
  return Value::NewMap({{"replicas", Value::Float(3)},
                        {"big", Value::Float(1000000)},
                        {"ratio", Value::Float(0.25)},
                        {"name", Value::String("web")},
                        {"labels", Value::NewMap({{"app", Value::String("web")}, {"tier", Value::String("fe")}})},
                        {"ports", Value::NewList({Value::Float(80), Value::Float(443)})},
                        {"nothing", Value()},
                        {"html", Value::String("<b>&</b>")}});
}

// A map that holds itself is garbage in Go; here the executor breaks the
// cycle when it is done, so the map is freed once the last outside handle
// goes. Values without cycles are left as the templates wrote them.
TEST(HelmFunctions, CyclesMadeBySetAndMergeAreFreed) {
  for (std::string_view text : {"{{ $_ := set . \"self\" . }}{{ len . }}",
                                "{{ $b := dict \"up\" (list 1 .) }}{{ $_ := merge . (dict \"down\" $b) }}{{ len . }}",
                                "{{ $a := dict }}{{ $_ := set $a \"x\" (dict \"back\" $a) }}{{ $_ := set . \"a\" $a }}"
                                "{{ len . }}"}) {
    Value data = Value::NewMap({{"keep", Value::NewMap({{"v", Value::Int(1)}})}});
    std::weak_ptr<Map> weak = data.map_ptr();
    std::weak_ptr<Map> inner;
    {
      EXPECT_EQ(Ok(text, data), "2") << text;
      auto a = data.AsMap().find("a");
      if (a != data.AsMap().end()) inner = a->second.map_ptr();
    }
    EXPECT_EQ(data.AsMap().at("keep").AsMap().at("v").AsInt(), 1) << text;
    data = Value();
    EXPECT_TRUE(weak.expired()) << text;
    EXPECT_TRUE(inner.expired()) << text;
  }
  // While the cycle lives, walking it stops with an error instead of
  // overflowing the stack (Go overflows on fmt, reports a cycle on JSON).
  for (std::string_view walk : {"{{ . }}", "{{ toJson . }}", "{{ toYaml . }}", "{{ deepCopy . }}",
                                "{{ printf \"%v\" . }}", "{{ toToml . }}", "{{ list . | uniq }}"}) {
    std::string text = "{{ $_ := set . \"self\" . }}{{ $_ := set . \"again\" . }}" + std::string(walk);
    EXPECT_NE(Err(text, Value::NewMap()).find("nested deeper than 1000 levels"), std::string::npos) << walk;
  }
  EXPECT_EQ(Ok("{{ $_ := set . \"self\" . }}{{ deepEqual . . }}", Value::NewMap()), "true");
  Value data = Value::NewMap();
  Value shared = Value::NewMap({{"v", Value::Int(7)}});
  Ok("{{ $_ := set . \"one\" .s }}{{ $_ := set . \"two\" .s }}", Value::NewMap({{"s", shared}}));
  EXPECT_EQ(Ok("{{ $_ := set . \"one\" .s }}{{ $_ := set . \"two\" .s }}{{ .one.v }}{{ .two.v }}",
               data = Value::NewMap({{"s", shared}})),
            "77");
  EXPECT_EQ(data.AsMap().at("two").AsMap().at("v").AsInt(), 7);
}

TEST(HelmFunctions, ToYamlPrintsWhatSigsYamlPrints) {
  EXPECT_EQ(Ok("{{ toYaml .labels }}", Values()), "app: web\ntier: fe");
  EXPECT_EQ(Ok("{{ toYaml .ports }}", Values()), "- 80\n- 443");
  EXPECT_EQ(Ok("{{ toYaml .big }} {{ toYaml .ratio }}", Values()), "1000000 0.25");
  EXPECT_EQ(Ok("{{ toYaml (dict) }}|{{ toYaml .nothing }}", Values()), "{}|null");
  // toYaml goes through JSON text as Helm's does: a whole float comes back
  // as the int64 its shortest digits spell (checked against the Helm
  // reference: 2^60 prints 1152921504606847000; -2^63's text,
  // -9223372036854776000, is past int64 and stays a float).
  Value big = Value::NewMap({{"a", Value::Float(1152921504606846976.0)}, {"b", Value::Float(-9223372036854775808.0)},
                             {"c", Value::Float(1e21)}, {"d", Value::Float(1e-7)}});
  EXPECT_EQ(Ok("{{ toYaml . }}", big), "a: 1152921504606847000\nb: -9.223372036854776e+18\nc: 1e+21\nd: 1e-07");
  EXPECT_EQ(Ok("{{ toJson . }}", big), R"({"a":1152921504606847000,"b":-9223372036854776000,"c":1e+21,"d":1e-7})");
  // Past int64, go-yaml reads the JSON text as a uint64 when it fits one
  // (the text's digits, not the float's exact value: 2^63 + 2048 prints
  // 9223372036854778000); negative texts and those past uint64 stay floats.
  Value unsigned_range = Value::NewMap({{"a", Value::Float(1.2e19)},
                                        {"b", Value::Float(9223372036854777856.0)},
                                        {"c", Value::Float(-1.2e19)},
                                        {"d", Value::Float(18446744073709551615.0)},
                                        {"e", Value::Float(1e20)}});
  EXPECT_EQ(Ok("{{ toYaml . }}", unsigned_range),
            "a: 12000000000000000000\nb: 9223372036854778000\nc: -1.2e+19\nd: 1.8446744073709552e+19\ne: 1e+20");
  EXPECT_EQ(Ok("{{ toYaml (dict \"x\" \"yes\" \"y\" \"1\") }}"), "x: \"yes\"\n\"y\": \"1\"");
  EXPECT_EQ(Ok("spec:{{ toYaml .labels | nindent 2 }}", Values()), "spec:\n  app: web\n  tier: fe");
}

TEST(HelmFunctions, JsonEncodingEscapesHtmlAndSortsKeys) {
  EXPECT_EQ(Ok("{{ toJson . }}", Values()),
            R"({"big":1000000,"html":"\u003cb\u003e\u0026\u003c/b\u003e","labels":{"app":"web","tier":"fe"},)"
            R"("name":"web","nothing":null,"ports":[80,443],"ratio":0.25,"replicas":3})");
  EXPECT_EQ(Ok(R"({{ (fromJson "{\"a\": 1}").a }})"), "1");
}

TEST(HelmFunctions, FromYamlDecodesNumbersAsFloatsAndYaml11Booleans) {
  EXPECT_EQ(Ok(R"({{ $m := fromYaml "a: 1\nb: yes\nc: 1000000" }}{{ typeOf $m.a }} {{ $m.b }} {{ $m.c }})"),
            "float64 true 1e+06");
  EXPECT_EQ(Ok(R"({{ (fromYaml "- a").Error }})"),
            "error unmarshaling JSON: json: cannot unmarshal into Go value of type map[string]interface {}");
  EXPECT_EQ(Ok(R"({{ fromYamlArray "- 1\n- b" }})"), "[1 b]");
  EXPECT_EQ(Ok(R"({{ (fromYaml "b: .inf\na: -.inf").Error }})"),
            "error converting YAML to JSON: json: unsupported value: -Inf");
  EXPECT_EQ(Ok(R"({{ fromYamlArray "[1, .nan]" }})"),
            "[error converting YAML to JSON: json: unsupported value: NaN]");
  // Like Go's decoder, fromYaml stops at the end of the first document:
  // a broken later document is never read.
  EXPECT_EQ(Ok(R"({{ fromYaml "a: 1\n---\nb: [" | toJson }})"), R"({"a":1})");
}

TEST(HelmFunctions, IncludeAndTplSeeDefinesAndData) {
  std::string t = R"({{- define "n" }}{{ .name }}-x{{ end -}}{{ include "n" . | upper }} {{ tpl "{{ .name }}!" . }})";
  EXPECT_EQ(Ok(t, Values()), "WEB-X web!");
  EXPECT_EQ(Ok(R"({{ tpl "{{ define \"q\" }}Q{{ end }}{{ template \"q\" }}" . }})"), "Q");
  EXPECT_NE(Err(R"({{ include "missing" . }})").find("no template \"missing\""), std::string::npos);
  EXPECT_NE(Err(R"({{ tpl "{{ .x" . }})").find("cannot parse template"), std::string::npos);
}

TEST(HelmFunctions, RequiredAndFailStopWithTheChartMessage) {
  EXPECT_NE(Err(R"({{ required "image.tag is required" .nothing }})", Values()).find("image.tag is required"),
            std::string::npos);
  EXPECT_EQ(Ok(R"({{ required "x" .name }})", Values()), "web");
  EXPECT_NE(Err(R"({{ fail "unsupported mode" }})").find("unsupported mode"), std::string::npos);
}

TEST(SprigFunctions, DefaultsAndEmptiness) {
  EXPECT_EQ(Ok(R"({{ default "d" .nothing }} {{ default "d" "" }} {{ default "d" .name }} {{ default 5 0 }})", Values()),
            "d d web 5");
  EXPECT_EQ(Ok(R"({{ empty .labels }} {{ empty (list) }} {{ empty 0.0 }} {{ empty false }})", Values()),
            "false true true true");
  EXPECT_EQ(Ok(R"({{ coalesce .nothing "" "c" }} {{ ternary "y" "n" true }} {{ ternary "y" "n" false }})", Values()),
            "c y n");
}

TEST(SprigFunctions, Strings) {
  EXPECT_EQ(Ok(R"({{ quote "a\"b" 1 .nothing }} {{ squote "x" }})", Values()), R"("a\"b" "1" 'x')");
  EXPECT_EQ(Ok(R"({{ trunc 3 "abcdef" }} {{ trunc -2 "abcdef" }} {{ trimSuffix "-" "a-" }} {{ trimPrefix "v" "v1" }})"),
            "abc ef a 1");
  EXPECT_EQ(Ok(R"({{ indent 2 "a\nb" }}|{{ nindent 2 "a" }})"), "  a\n  b|\n  a");
  EXPECT_EQ(Ok(R"({{ replace "." "-" "a.b.c" }} {{ contains "ell" "hello" }} {{ hasPrefix "he" "hello" }})"),
            "a-b-c true true");
  EXPECT_EQ(Ok(R"({{ upper "ab" }} {{ lower "AB" }} {{ title "hello world" }} {{ trim "  x " }} {{ repeat 3 "z" }})"),
            "AB ab Hello World x zzz");
  EXPECT_EQ(Ok(R"({{ substr 1 3 "abcd" }} {{ nospace "a b c" }} {{ cat "a" .nothing "b" }} {{ toString 1.5 }})", Values()),
            "bc abc a b 1.5");
  EXPECT_EQ(Ok(R"({{ join "," (list 1 "a" 2) }} {{ splitList "," "a,b" }} {{ (split "," "a,b")._1 }})"),
            "1,a,2 [a b] b");
  EXPECT_EQ(Ok(R"({{ snakecase "FooBar" }} {{ camelcase "foo_bar" }} {{ kebabcase "FooBar" }})"),
            "foo_bar FooBar foo-bar");
}

TEST(SprigFunctions, ListsAndDicts) {
  EXPECT_EQ(Ok(R"({{ append (list 1 2) 3 }} {{ prepend (list 2) 1 }} {{ concat (list 1) (list 2 3) }} {{ first (list 7 8) }} {{ last (list 7 8) }} {{ rest (list 7 8) }})"),
            "[1 2 3] [1 2] [1 2 3] 7 8 [8]");
  EXPECT_EQ(Ok(R"({{ has 2 (list 1 2) }} {{ has "2" (list 1 2) }} {{ uniq (list 1 1 2) }} {{ without (list 1 2 3) 2 }} {{ reverse (list 1 2) }})"),
            "true false [1 2] [1 3] [2 1]");
  EXPECT_EQ(Ok(R"({{ sortAlpha (list "b" "a") }} {{ until 3 }} {{ compact (list 1 "" 2) }})"), "[a b] [0 1 2] [1 2]");
  EXPECT_EQ(Ok(R"({{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ $d }} {{ hasKey $d "b" }} {{ get $d "z" }}|{{ keys $d | sortAlpha }})"),
            "map[a:1 b:2] true |[a b]");
  EXPECT_EQ(Ok(R"({{ pick .labels "app" }} {{ omit .labels "app" }} {{ values (dict "a" 1) }} {{ pluck "a" (dict "a" 1) (dict "a" 2) }})", Values()),
            "map[app:web] map[tier:fe] [1] [1 2]");
  EXPECT_EQ(Ok(R"({{ dig "a" "b" "none" (dict "a" (dict "b" "found")) }} {{ dig "a" "x" "none" (dict "a" (dict)) }})"),
            "found none");
}

TEST(SprigFunctions, MergeKeepsDestinationAndOverwriteReplaces) {
  EXPECT_EQ(Ok(R"({{ merge (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "x" 2 "y" 2)) }})"),
            "map[a:1 b:3 n:map[x:1 y:2]]");
  EXPECT_EQ(Ok(R"({{ mergeOverwrite (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "n" (dict "y" 2)) }})"),
            "map[a:2 n:map[x:1 y:2]]");
  EXPECT_EQ(Ok(R"({{ merge (dict "a" "") (dict "a" "filled") }})"), "map[a:filled]");
}

TEST(SprigFunctions, MathAndConversions) {
  EXPECT_EQ(Ok(R"({{ add 1 2 3 }} {{ add1 .replicas }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }} {{ max 1 5 2 }} {{ min 3 1 }})", Values()),
            "6 4 3 6 3 1 5 1");
  EXPECT_EQ(Ok(R"({{ int "42" }} {{ int 3.9 }} {{ int64 "0x10" }} {{ float64 "1.5" }} {{ atoi "12" }} {{ floor 1.7 }} {{ ceil 1.2 }} {{ round 2.555 2 }})"),
            "42 3 16 1.5 12 1 2 2.56");
  EXPECT_EQ(Ok(R"({{ typeOf 1 }} {{ typeOf (int64 1) }} {{ typeOf .replicas }} {{ kindOf .labels }} {{ kindIs "slice" .ports }} {{ typeOf .nothing }})", Values()),
            "int int64 float64 map true <nil>");
  EXPECT_NE(Err(R"({{ div 1 0 }})").find("divide by zero"), std::string::npos);
  // Go's int64 arithmetic wraps, and MinInt64 / -1 is MinInt64 there (the
  // processor would trap on it here); floats out of range convert to
  // MinInt64, as Go's int64(f) does on amd64. Checked with Helm.
  EXPECT_EQ(Ok(R"({{ add 9223372036854775807 1 }} {{ add1 9223372036854775807 }} {{ sub -9223372036854775808 1 }})"),
            "-9223372036854775808 -9223372036854775808 9223372036854775807");
  EXPECT_EQ(Ok(R"({{ mul 9223372036854775807 2 }} {{ div -9223372036854775808 -1 }} {{ mod -9223372036854775808 -1 }})"),
            "-2 -9223372036854775808 0");
  EXPECT_EQ(Ok(R"({{ int 1e300 }} {{ int64 -1e300 }})"), "-9223372036854775808 -9223372036854775808");
  // Loops and sizes at the edge of int64, as Helm gives them.
  EXPECT_EQ(Ok(R"({{ repeat 4611686018427387904 "" | quote }} {{ untilStep 9223372036854775805 9223372036854775807 1 }})"),
            "\"\" [9223372036854775805 9223372036854775806]");
  EXPECT_NE(Err(R"({{ repeat 4611686018427387904 "ab" }})").find("too large"), std::string::npos);
  EXPECT_NE(Err(R"({{ randInt -9223372036854775808 9223372036854775807 }})").find("invalid argument to Intn"),
            std::string::npos);
  EXPECT_EQ(Ok(R"({{ randInt 5 6 }})"), "5");
}

TEST(SprigFunctions, EncodingsAndHashes) {
  EXPECT_EQ(Ok(R"({{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }} {{ sha256sum "abc" }})"),
            "aGVsbG8= hello ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Ok(R"({{ sha1sum "abc" }} {{ adler32sum "abc" }})"), "a9993e364706816aba3e25717850c26c9cd0d89d 38600999");
}

TEST(SprigFunctions, Regex) {
  EXPECT_EQ(Ok(R"({{ regexMatch "^[a-z]+$" "abc" }} {{ regexFind "[0-9]+" "ab12cd34" }} {{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} {{ regexReplaceAllLiteral "a(x*)b" "-ab-" "$1" }})"),
            "true 12 -W-xxW- -$1-");
  EXPECT_EQ(Ok(R"({{ regexFindAll "[0-9]" "a1b2c3" 2 }} {{ regexSplit "[,;]" "a,b;c" -1 }})"), "[1 2] [a b c]");
  EXPECT_EQ(Ok(R"({{ regexMatch "\\$(?:__(?:env|file))?{[^}]+}" "x ${VAR}" }})"), "true");
  EXPECT_EQ(Ok(R"({{ regexReplaceAll "a*" "baaac" "-" }} {{ regexReplaceAll "(?P<w>\\w+)@" "me@x" "$w" }})"), "-b-c- mex");
  EXPECT_NE(Err(R"({{ regexMatch "(" "x" }})").find("error parsing regexp"), std::string::npos);
}

TEST(SprigFunctions, RegexOnHugeInputStaysLinear) {
  // A backtracking engine would overflow its stack here.
  EXPECT_EQ(Ok(R"({{ regexMatch "(a|b)*c" (repeat 200000 "a") }})"), "false");
}

TEST(SprigFunctions, SemverCompare) {
  EXPECT_EQ(Ok(R"({{ semverCompare ">=1.19-0" "v1.32.0" }} {{ semverCompare "<1.25-0" "1.20.0" }} {{ semverCompare "~1.2" "1.2.9" }} {{ semverCompare "^2" "3.0.0" }})"),
            "true true true false");
  EXPECT_EQ(Ok(R"({{ semverCompare ">=1.20" "1.21.0-rc.1" }} {{ semverCompare ">=1.20-0" "1.21.0-rc.1" }} {{ semverCompare "1.x" "1.5.0" }} {{ semverCompare ">1 <2 || 3" "3.0.0" }})"),
            "false true true true");
  EXPECT_EQ(Ok(R"({{ (semver "1.2.3-beta+b1").Minor }} {{ (semver "v2.0").Major }})"), "2 2");
  EXPECT_NE(Err(R"({{ semverCompare ">=1" "not-a-version" }})"), "");
}

TEST(SprigFunctions, RandomAndCertificatesHaveTheRightShape) {
  std::string r = Ok(R"({{ randAlphaNum 16 }}|{{ uuidv4 }})");
  ASSERT_EQ(r.size(), 16u + 1 + 36);
  EXPECT_EQ(r[16 + 1 + 14], '4');
  std::string ca = Ok(R"({{ $ca := genCA "ca" 10 }}{{ $c := genSignedCert "svc" nil (list "svc.ns") 10 $ca }}{{ $c.Cert }}{{ $c.Key }})");
  EXPECT_NE(ca.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_NE(ca.find("-----BEGIN RSA PRIVATE KEY-----"), std::string::npos);
  std::string h = Ok(R"({{ htpasswd "user" "pw" }})");
  EXPECT_TRUE(h.starts_with("user:$2a$10$")) << h;
}

TEST(SprigFunctions, DatesFormatWithGoLayouts) {
  // 2009-11-10 23:00:00 UTC, Go's playground time.
  EXPECT_EQ(Ok(R"({{ dateInZone "2006-01-02T15:04:05Z07:00 Mon Jan _2 3:04PM .000" 1257894000 "UTC" }})"),
            "2009-11-10T23:00:00Z Tue Nov 10 11:00PM .000");
  EXPECT_EQ(Ok(R"({{ unixEpoch (dateModify "1h30m" (now)) | len }})"), "10");
  // Sprig's duration reads strings and int64 only: a template's int literal
  // is Go's int, which it treats as 0.
  EXPECT_EQ(Ok(R"({{ duration "3725" }} {{ duration 3725 }} {{ duration (int64 90) }} {{ dateInZone "Jan 2" 0 "UTC" }})"),
            "1h2m5s 0s 1m30s Jan 1");
  // Unknown zones fall back to UTC, as in Sprig.
  EXPECT_EQ(Ok(R"({{ dateInZone "2006-01-02 15:04 MST" 0 "Mars/Base" }})"), "1970-01-01 00:00 UTC");
}

// Expected values were printed by the reference renderer (Go's time
// package with the same tz database) with TZ=UTC.
TEST(SprigFunctions, DatesInNamedZonesAndParsing) {
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(Ok(R"({{ dateInZone "2006-01-02T15:04:05Z07:00 MST Mon Jan _2 3:04PM .000" 1257894000 "Europe/Berlin" }})"),
            "2009-11-11T00:00:00+01:00 CET Wed Nov 11 12:00AM .000");
  EXPECT_EQ(Ok(R"({{ dateInZone "2006-01-02 15:04:05 -0700 MST" 1688000000 "America/New_York" }})"),
            "2023-06-28 20:53:20 -0400 EDT");
  // Past the file's last transition the zone's POSIX rule applies.
  EXPECT_EQ(Ok(R"({{ dateInZone "2006-01-02 15:04:05 -07:00 MST" 4102444800 "Europe/Berlin" }})"),
            "2100-01-01 01:00:00 +01:00 CET");
  EXPECT_EQ(Ok(R"({{ dateInZone "2006-01-02 15:04:05 -07:00 MST" 4118080000 "Europe/Berlin" }})"),
            "2100-07-01 01:06:40 +02:00 CEST");
  EXPECT_EQ(Ok(R"({{ dateInZone "2006-01-02 15:04 MST" 1700000000 "Asia/Kolkata" }})"), "2023-11-15 03:43 IST");
  EXPECT_EQ(Ok(R"({{ dateInZone "2006-01-02 15:04 MST -07" 1700000000 "Australia/Lord_Howe" }})"),
            "2023-11-15 09:13 +11 +11");
  EXPECT_EQ(Ok(R"({{ dateInZone "2006-01-02 15:04 MST" -2000000000 "Europe/Paris" }})"), "1906-08-16 20:36 PMT");
  EXPECT_EQ(Ok(R"({{ htmlDateInZone 1700000000 "Pacific/Kiritimati" }} {{ dateInZone "Janet 2" 0 "UTC" }})"),
            "2023-11-15 Janet 1");
  EXPECT_EQ(Ok(R"({{ toDate "2006-01-02" "2017-12-31" }})"), "2017-12-31 00:00:00 +0000 UTC");
  EXPECT_EQ(Ok(R"({{ toDate "2006-01-02 15:04:05 MST" "2017-12-31 10:20:30 CET" }})"), "2017-12-31 10:20:30 +0000 CET");
  EXPECT_EQ(Ok(R"({{ toDate "2006-01-02T15:04:05Z07:00" "2017-12-31T10:20:30+05:30" }})"),
            "2017-12-31 10:20:30 +0530 +0530");
  EXPECT_EQ(Ok(R"({{ toDate "2006-01-02" "bad" }})"), "0001-01-01 00:00:00 +0000 UTC");
  EXPECT_EQ(Ok(R"({{ toDate "02 Jan 06 15:04 -0700" "31 Dec 17 23:59 -0800" | unixEpoch }})"), "1514793540");
  EXPECT_EQ(Ok(R"({{ toDate "2006-01-02 15:04:05" "2017-12-31 10:20:30.5" }})"), "2017-12-31 10:20:30.5 +0000 UTC");
  EXPECT_EQ(Ok(R"({{ toDate "Jan _2 3:04PM" "Feb  3 4:05AM" }})"), "0000-02-03 04:05:00 +0000 UTC");
  EXPECT_EQ(Ok(R"({{ toDate "2006-002" "2016-060" }})"), "2016-02-29 00:00:00 +0000 UTC");
  EXPECT_EQ(Ok(R"({{ toDate "2006-01-02 15:04:05 MST" "2017-06-30 10:20:30 GMT+3" }})"),
            "2017-06-30 13:20:30 +0300 GMT+3");
  EXPECT_EQ(Ok(R"({{ toDate "2006-01-02" "2017-12-31" | dateModify "24h30m" }})"), "2018-01-01 00:30:00 +0000 UTC");
  EXPECT_EQ(Ok(R"({{ toDate "2006-01-02" "2017-12-31" | dateModify "bogus" }})"), "2017-12-31 00:00:00 +0000 UTC");
  EXPECT_NE(Err(R"({{ toDate "2006-01-02" "2017-12-31" | mustDateModify "bogus" }})").find("time: invalid duration"),
            std::string::npos);
  EXPECT_NE(Err(R"({{ mustToDate "2006-01-02" "2017-13-01" }})").find(R"(parsing time "2017-13-01": month out of range)"),
            std::string::npos);
  EXPECT_NE(Err(R"({{ mustToDate "2006-01-02" "x" }})")
                .find(R"(parsing time "x" as "2006-01-02": cannot parse "x" as "2006")"),
            std::string::npos);
  EXPECT_EQ(Ok(R"({{ durationRound "2h10m" }} {{ durationRound "" }} {{ durationRound "400h" }} {{ durationRound "1000h" }})"),
            "2h 0s 16d 1mo");
  EXPECT_EQ(Ok(R"({{ durationRound "9000h" }} {{ durationRound "59s" }} {{ durationRound "61s" }} {{ durationRound "-3h" }})"),
            "1y 59s 1m 3h");
}

TEST(HelmFunctions, LookupIsEmptyOffline) {
  EXPECT_EQ(Ok(R"({{ lookup "v1" "Secret" "ns" "name" }} {{ len (lookup "v1" "Secret" "ns" "") }})"), "map[] 0");
}

}  // namespace
}  // namespace keelson::helm

namespace keelson::helm {
namespace {

// Expected values below were printed by the reference renderer (Go's
// text/template with Sprig) for the same expressions.
TEST(HelmFunctions, FloatArithmeticIsDecimalAsInSprig) {
  EXPECT_EQ(Ok("{{ addf 0.1 0.2 }} {{ addf }} {{ subf 0.3 0.1 }} {{ mulf 0.1 3 }} {{ mulf 1.1 1.1 1.1 }}"),
            "0.3 0 0.2 0.3 1.331");
  EXPECT_EQ(Ok("{{ divf 1 3 }} {{ divf 10 4 }} {{ divf 2 3 }} {{ divf -2 3 }} {{ divf 1e20 3 }}"),
            "0.3333333333333333 2.5 0.6666666666666667 -0.6666666666666667 3.333333333333333e+19");
  EXPECT_EQ(Ok("{{ add1f 0.1 }} {{ add1f \"2.5\" }} {{ maxf 1 2.5 \"3\" }} {{ minf 1 2.5 -3 }}"), "1.1 3.5 3 -3");
  EXPECT_NE(Err("{{ divf 1 0 }}").find("decimal division by 0"), std::string::npos);
}

TEST(HelmFunctions, SprigStringPathAndEncodingExtras) {
  EXPECT_EQ(Ok(R"({{ list (b32enc "hello world!") (b32enc "a") (b32enc "") (b32enc "abcde") | toJson }})"),
            R"(["NBSWY3DPEB3W64TMMQQQ====","ME======","","MFRGGZDF"])");
  EXPECT_EQ(Ok(R"({{ list (b32dec "NBSWY3DPEB3W64TMMQQQ====") (b32dec "ME======") (b32dec "bad!") | toJson }})"),
            R"(["hello world!","a","illegal base32 data at input byte 0"])");
  EXPECT_EQ(Ok(R"({{ list (clean "a//b/../c/./d/") (clean "") (clean "/../x") (clean "../../x/..") (osClean "/") | toJson }})"),
            R"(["a/c/d",".","/x","../..","/"])");
  EXPECT_EQ(Ok(R"({{ list (dir "a//b") (dir "abc") (dir "/a") (osDir "a/b/") (osBase "a/b/") (osExt "a.b/c.tar.gz") (osIsAbs "/x") | toJson }})"),
            R"(["a",".","/","a/b","b",".gz",true])");
  EXPECT_EQ(Ok(R"({{ hello }} {{ trimall "$" "$5.00$" }})"), "Hello! 5.00");
  EXPECT_EQ(Ok(R"({{ list (abbrevboth 5 10 "1234 5678 9123") (abbrevboth 0 10 "1234 5678 9123") (abbrevboth 1 6 "abcdefghijklmno") (abbrevboth 10 10 "abcdefghijklmnopqrstuvwxyz") | toJson }})"),
            R"(["...5678...","1234 56...","abcdefghijklmno","...klmn..."])");
  EXPECT_EQ(Ok(R"({{ list (wrapWith 5 "\t" "Hello World are you there") (wrapWith 3 "|" "abcdefgh ij") | toJson }})"),
            R"(["Hello\tWorld\tare\tyou\tthere","abc|def|gh|ij"])");
  EXPECT_EQ(Ok(R"({{ mustChunk 2 (list 1 2 3) | toJson }} {{ mustToRawJson (dict "a" "<b>") }})"), R"([[1,2],[3]] {"a":"<b>"})");
  EXPECT_EQ(Ok(R"({{ mustToPrettyJson (list 1 2) }})"), "[\n  1,\n  2\n]");
  EXPECT_EQ(Ok(R"({{ mustFromJson "[1, \"a\", {\"b\": 2}]" | toJson }})"), R"([1,"a",{"b":2}])");
  EXPECT_FALSE(::keelson::helm::Run(R"({{ mustFromJson "{" }})").ok());
  EXPECT_EQ(Ok("{{ randBytes 12 | b64dec | len }} {{ randBytes 12 | len }}"), "12 16");
}

}  // namespace
}  // namespace keelson::helm

namespace keelson::helm {
namespace {

TEST(HelmFunctions, UrlParseAndJoinFollowGoNetUrl) {
  EXPECT_EQ(Ok(R"({{ urlParse "https://user:p%40ss@example.com:8443/a%20b/c?x=1&y=2#frag%20x" | toJson }})"),
            R"({"fragment":"frag x","host":"example.com:8443","hostname":"example.com","opaque":"","path":"/a b/c",)"
            R"("query":"x=1\u0026y=2","scheme":"https","userinfo":"user:p%40ss"})");
  EXPECT_EQ(Ok(R"({{ urlParse "mailto:joe@example.com" | urlJoin }} {{ urlParse "http://[::1]:80/x" | urlJoin }})"),
            "mailto:joe@example.com http://[::1]:80/x");
  EXPECT_EQ(Ok(R"({{ (urlParse "http://[::1]:80/x").hostname }} {{ (urlParse "HTTP://Example.COM/%7Efoo").path }})"),
            "::1 /~foo");
  EXPECT_EQ(Ok(R"({{ urlParse "http://x@y@z/" | urlJoin }} {{ urlParse "http://h/p?" | urlJoin }} {{ urlParse "//host/p" | urlJoin }})"),
            "http://x%40y@z/ http://h/p //host/p");
  EXPECT_EQ(Ok(R"({{ urlJoin (dict "scheme" "https" "host" "h:1" "path" "/a b/ü" "query" "q=1" "fragment" "f g" "userinfo" "me:s3cr@t") }})"),
            "https://me:s3cr%40t@h:1/a%20b/%C3%BC?q=1#f%20g");
  EXPECT_EQ(Ok(R"({{ urlJoin (dict "path" "a:b/c") }} {{ urlJoin (dict "host" "h" "path" "rel") }})"), "./a:b/c //h/rel");
  EXPECT_NE(Err(R"({{ urlParse "http://h:port/" }})").find(R"(invalid port ":port" after host)"), std::string::npos);
  EXPECT_NE(Err(R"({{ urlParse "http://h/%zz" }})").find(R"(invalid URL escape "%zz")"), std::string::npos);
  EXPECT_NE(Err(R"({{ urlParse ":foo" }})").find("missing protocol scheme"), std::string::npos);
}

}  // namespace
}  // namespace keelson::helm

namespace keelson::helm {
namespace {

// derivePassword and decryptAES outputs were produced by the reference
// renderer (Sprig); encryptAES draws a random IV, so it is checked by
// decrypting.
TEST(HelmFunctions, SprigPasswordsAndAesMatchTheReference) {
  EXPECT_EQ(Ok(R"({{ derivePassword 1 "long" "password" "user" "example.com" }})"), "ZedaFaxcZaso9*");
  EXPECT_EQ(Ok(R"({{ derivePassword 3 "maximum" "pässword" "ü" "site" }})"), "jNnF8#iIZcJru&YCqH7?");
  EXPECT_EQ(Ok(R"({{ derivePassword 0 "pin" "p" "u" "s" }} {{ derivePassword 1 "basic" "p" "u" "s" }} )"
               R"({{ derivePassword 1 "short" "p" "" "" }} {{ derivePassword 1 "medium" "p" "u" "s" }})"),
            "9426 tGf1NEr0 Civ9 Rud1@Nel");
  EXPECT_EQ(Ok(R"({{ derivePassword 1 "nope" "p" "u" "s" }})"), "cannot find password template nope");
  EXPECT_EQ(Ok(R"({{ decryptAES "secretkey" "JSmDmV3Vhflr9crW/tLTcH67m0hwCr3/h+ionsZZXtA=" }})"), "hello from go");
  EXPECT_EQ(Ok(R"({{ encryptAES "secretkey" "plaintext" | decryptAES "secretkey" }})"), "plaintext");
  EXPECT_EQ(Ok(R"({{ encryptAES "0123456789abcdef0123456789abcdefXX" "exactly sixteen!" | decryptAES "0123456789abcdef0123456789abcdefXX" }})"),
            "exactly sixteen!");
  EXPECT_EQ(Ok(R"({{ encryptAES "secretkey" "plaintext" | b64dec | len }}|{{ encryptAES "k" "" }}|{{ decryptAES "k" "" }})"), "32||");
  EXPECT_FALSE(::keelson::helm::Run(R"({{ decryptAES "k" "AAAA" }})").ok());
  EXPECT_EQ(Ok(R"({{ bcrypt "pw" | substr 0 7 }} {{ bcrypt "pw" | len }})"), "$2a$10$ 60");
}

TEST(HelmFunctions, CertificatesWithGivenKeys) {
  std::string key = Ok(R"({{ genPrivateKey "rsa" }})");
  ASSERT_NE(key.find("BEGIN RSA PRIVATE KEY"), std::string::npos);
  Value data = Value::NewMap({{"key", Value::String(key)}});
  std::string self = Ok(R"({{ $c := genSelfSignedCertWithKey "web" (list "10.0.0.1") (list "web.local") 3 .key }})"
                        R"({{ $c.Key }}{{ $c.Cert }})", data);
  EXPECT_EQ(self.substr(0, key.size()), key);  // the certificate carries the given key
  std::string signed_cert = Ok(R"({{ $ca := genCAWithKey "ca" 3 .key }}{{ $c := genSignedCertWithKey "w" nil nil 3 $ca .key }})"
                               R"({{ $c.Key }})", data);
  EXPECT_EQ(signed_cert, key);
  std::string custom = Ok(R"({{ $c := genSelfSignedCert "x" nil nil 1 }}{{ $b := buildCustomCert ($c.Cert | b64enc) ($c.Key | b64enc) }})"
                          R"({{ eq $b.Cert $c.Cert }} {{ eq $b.Key $c.Key }})");
  EXPECT_EQ(custom, "true true");
  EXPECT_NE(Err(R"({{ buildCustomCert "!!" "" }})").find("unable to decode base64 certificate"), std::string::npos);
  EXPECT_NE(Err(R"({{ genCAWithKey "ca" 3 "not a key" }})").find("no PEM data in input"), std::string::npos);
}

}  // namespace
}  // namespace keelson::helm

namespace keelson::helm {
namespace {

// Expected texts were printed by the reference renderer (BurntSushi/toml
// and go-yaml v3, as Helm uses them).
TEST(HelmFunctions, ToTomlAsBurntSushiEncodes) {
  EXPECT_EQ(Ok(R"({{ toToml (dict "a" 1 "b" "str" "c" (list 1 2) "d" (dict "e" true "f" (dict "g" 1.5)) "h" (list (dict "i" 1) (dict "i" 2))) }})"),
            "a = 1\nb = \"str\"\nc = [1, 2]\n\n[d]\n  e = true\n  [d.f]\n    g = 1.5\n\n[[h]]\n  i = 1\n\n[[h]]\n  i = 2\n");
  EXPECT_EQ(Ok(R"({{ toToml (dict "key with space" "v" "q" "a\"b\n\u001b" "n" nil "z" (list "x" "y") "emptylist" (list) "emptymap" (dict) "" 1 "dotted.key" (dict "x" 3.0)) }})"),
            "\"\" = 1\nemptylist = []\n\"key with space\" = \"v\"\nq = \"a\\\"b\\n\\u001b\"\nz = [\"x\", \"y\"]\n\n"
            "[\"dotted.key\"]\n  x = 3.0\n\n[emptymap]\n");
  EXPECT_EQ(Ok(R"({{ toToml (dict "inl" (list (dict "a" 1) 2) "m" (list (list 1 2) (list "a")) "t" (list (dict "x" (dict "y" 1) "z" 2))) }})"),
            "inl = [{a = 1}, 2]\nm = [[1, 2], [\"a\"]]\n\n[[t]]\n  z = 2\n  [t.x]\n    y = 1\n");
  EXPECT_EQ(Ok(R"({{ toToml (dict "f" 1e21 "g" 0.000001 "h" -0.5) }})"), "f = 1000000000000000000000.0\ng = 0.000001\nh = -0.5\n");
  EXPECT_EQ(Ok(R"({{ toToml "str" }}|{{ toToml (dict "l" (list 1 nil)) }})"),
            "toml: top-level values must be Go maps or structs|toml: cannot encode array with nil element");
}

TEST(HelmFunctions, ToYamlPrettyIndentsSequencesAndDoesNotFold) {
  EXPECT_EQ(Ok(R"({{ toYamlPretty (dict "a" (list 1 2 (dict "x" "y")) "b" (dict "c" "yes" "d" "") "e" "multi\nline" "g" nil "i" (list) "j" (dict)) }})"),
            "a:\n  - 1\n  - 2\n  - x: \"y\"\nb:\n  c: \"yes\"\n  d: \"\"\ne: |-\n  multi\n  line\ng: null\ni: []\nj: {}");
  EXPECT_EQ(Ok(R"({{ toYamlPretty (dict "a" (list (dict "b" (list 1 2) "c" (dict "d" (list (list 3)))))) }})"),
            "a:\n  - b:\n      - 1\n      - 2\n    c:\n      d:\n        - - 3");
  std::string long_text = "a very long string that goes on and on and on and on and on and on and on and on and on forever";
  EXPECT_EQ(Ok("{{ toYamlPretty \"" + long_text + "\" }}"), long_text);
  // toYamlPretty encodes the value itself, without toYaml's trip through
  // JSON: whole floats print as Go prints floats.
  EXPECT_EQ(Ok("{{ toYamlPretty . }}", Value::NewMap({{"big", Value::Float(1000000)},
                                                      {"huge", Value::Float(1.2e19)},
                                                      {"small", Value::Float(3)},
                                                      {"int", Value::Int64(1000000)}})),
            "big: 1e+06\nhuge: 1.2e+19\nint: 1000000\nsmall: 3");
  EXPECT_EQ(Ok("{{ toYaml \"" + long_text + "\" }}"),
            "a very long string that goes on and on and on and on and on and on and on and on and\n  on forever");
}

}  // namespace
}  // namespace keelson::helm
