// Go text/template behaviour, case by case after the package documentation.
#include <gtest/gtest.h>

#include "renderers/helm/functions.h"
#include "renderers/helm/template.h"

namespace keelson::helm {
namespace {

const FunctionTable& Functions() {
  static const FunctionTable table = [] {
    FunctionTable t;
    AddBuiltins(t);
    return t;
  }();
  return table;
}

Result<std::string> Run(std::string_view text, const Value& data = Value(), Limits limits = {}) {
  TemplateSet set;
  Status st = set.Parse("t", text, Functions(), limits);
  if (!st.ok()) return std::move(st).error();
  Executor ex(Functions(), limits);
  return ex.Execute(set, "t", data);
}

std::string Ok(std::string_view text, const Value& data = Value()) {
  auto r = Run(text, data);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? *r : "<error>";
}

std::string Err(std::string_view text, const Value& data = Value(), Limits limits = {}) {
  auto r = Run(text, data, limits);
  EXPECT_FALSE(r.ok()) << text << " unexpectedly gave " << (r.ok() ? *r : "");
  return r.ok() ? "" : r.error().ToString();
}

Value Data() {
  Map inner{{"b", Value::String("B")}, {"n", Value::Float(3)}};
  return Value::NewMap({{"name", Value::String("web")},
                        {"count", Value::Int(3)},
                        {"zero", Value::Int(0)},
                        {"empty", Value::String("")},
                        {"list", Value::NewList({Value::String("x"), Value::String("y"), Value::String("z")})},
                        {"map", Value::NewMap({{"k2", Value::Int(2)}, {"k1", Value::Int(1)}})},
                        {"a", Value::NewMap(inner)},
                        {"f", Value::Float(1e6)},
                        {"half", Value::Float(0.5)},
                        {"t", Value::Bool(true)}});
}

TEST(TemplateText, TrimMarkersRemoveAdjacentSpace) {
  EXPECT_EQ(Ok("{{23 -}} < {{- 45}}"), "23<45");
  EXPECT_EQ(Ok("a  \n {{- 1 }} \n b"), "a1 \n b");
  EXPECT_EQ(Ok("a {{ 1 -}}\n\n b"), "a 1b");
  // "-3" without a space is a number, not a trim marker.
  EXPECT_EQ(Ok("x {{-3}}"), "x -3");
}

TEST(TemplateText, CommentsProduceNothing) {
  EXPECT_EQ(Ok("a{{/* a comment */}}b"), "ab");
  EXPECT_EQ(Ok("a {{- /* multi\nline */ -}} b"), "ab");
  EXPECT_NE(Err("{{/* unclosed"), "");
}

TEST(TemplateText, DocumentationPipelineExamplesAllPrintOutputQuoted) {
  const char* examples[] = {
      R"({{"\"output\""}})",
      "{{`\"output\"`}}",
      R"({{printf "%q" "output"}})",
      R"({{"output" | printf "%q"}})",
      R"({{printf "%q" (print "out" "put")}})",
      R"({{"put" | printf "%s%s" "out" | printf "%q"}})",
      R"({{"output" | printf "%s" | printf "%q"}})",
      R"({{with "output"}}{{printf "%q" .}}{{end}})",
      R"({{with $x := "output" | printf "%q"}}{{$x}}{{end}})",
      R"({{with $x := "output"}}{{printf "%q" $x}}{{end}})",
      R"({{with $x := "output"}}{{$x | printf "%q"}}{{end}})",
  };
  for (const char* e : examples) EXPECT_EQ(Ok(e), "\"output\"") << e;
}

TEST(TemplateActions, FieldsOfMapsAndMissingKeys) {
  EXPECT_EQ(Ok("{{.name}} {{.a.b}}", Data()), "web B");
  EXPECT_EQ(Ok("{{.missing}}", Data()), "<no value>");
  std::string e = Err("{{.missing.b}}", Data());
  EXPECT_NE(e.find("nil pointer evaluating interface {}.b"), std::string::npos) << e;
  e = Err("{{.name.x}}", Data());
  EXPECT_NE(e.find("can't evaluate field x"), std::string::npos) << e;
}

TEST(TemplateActions, IfElseIfElse) {
  const char* t = "{{if .zero}}A{{else if .empty}}B{{else if .count}}C{{else}}D{{end}}";
  EXPECT_EQ(Ok(t, Data()), "C");
  EXPECT_EQ(Ok("{{if .list}}yes{{end}}{{if .nothing}}no{{else}}else{{end}}", Data()), "yeselse");
}

TEST(TemplateActions, WithSetsDotAndHasElse) {
  EXPECT_EQ(Ok("{{with .a}}{{.b}}{{end}}", Data()), "B");
  EXPECT_EQ(Ok("{{with .empty}}x{{else}}none{{end}}", Data()), "none");
  EXPECT_EQ(Ok("{{with .zero}}x{{else with .a}}{{.b}}{{end}}", Data()), "B");
}

TEST(TemplateActions, RangeOverListsAndSortedMaps) {
  EXPECT_EQ(Ok("{{range .list}}{{.}}{{end}}", Data()), "xyz");
  EXPECT_EQ(Ok("{{range $i, $e := .list}}{{$i}}={{$e}} {{end}}", Data()), "0=x 1=y 2=z ");
  EXPECT_EQ(Ok("{{range $k, $v := .map}}{{$k}}:{{$v}},{{end}}", Data()), "k1:1,k2:2,");
  EXPECT_EQ(Ok("{{range $v := .list}}{{$v}}{{end}}", Data()), "xyz");
  EXPECT_EQ(Ok("{{range .nothing}}x{{else}}empty{{end}}", Data()), "empty");
  EXPECT_NE(Err("{{range .name}}{{end}}", Data()).find("range can't iterate over web"), std::string::npos);
}

TEST(TemplateActions, BreakAndContinue) {
  EXPECT_EQ(Ok("{{range .list}}{{if eq . \"y\"}}{{break}}{{end}}{{.}}{{end}}", Data()), "x");
  EXPECT_EQ(Ok("{{range .list}}{{if eq . \"y\"}}{{continue}}{{end}}{{.}}{{end}}", Data()), "xz");
  EXPECT_NE(Err("{{break}}"), "");
}

TEST(TemplateActions, VariablesDeclareAssignAndScope) {
  EXPECT_EQ(Ok("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}"), "2");
  EXPECT_EQ(Ok("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}"), "21");
  EXPECT_EQ(Ok("{{with .a}}{{$.name}}{{end}}", Data()), "web");
  EXPECT_NE(Err("{{$undefined}}").find("undefined variable"), std::string::npos);
}

TEST(TemplateActions, DefineTemplateAndBlock) {
  EXPECT_EQ(Ok(R"({{define "T1"}}ONE{{end}}{{define "T2"}}TWO {{template "T1"}}{{end}}{{template "T2"}})"),
            "TWO ONE");
  EXPECT_EQ(Ok(R"({{define "name"}}[{{.}}]{{end}}{{template "name" .name}})", Data()), "[web]");
  EXPECT_EQ(Ok(R"({{block "b" .name}}<{{.}}>{{end}})", Data()), "<web>");
  // Templates run with their own variables; $ is the argument.
  EXPECT_EQ(Ok(R"({{define "v"}}{{$}}{{end}}{{$x := 1}}{{template "v" 7}})"), "7");
  EXPECT_NE(Err(R"({{template "nope"}})").find("no such template"), std::string::npos);
}

TEST(TemplateActions, LaterDefinitionReplacesUnlessEmpty) {
  TemplateSet set;
  ASSERT_TRUE(set.Parse("a", R"({{define "x"}}first{{end}})", Functions()).ok());
  ASSERT_TRUE(set.Parse("b", R"({{define "x"}}second{{end}})", Functions()).ok());
  ASSERT_TRUE(set.Parse("c", R"({{define "x"}}  {{end}}{{template "x"}})", Functions()).ok());
  Executor ex(Functions(), {});
  auto r = ex.Execute(set, "c", Value());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "second");
}

TEST(TemplateActions, ParenthesesAndChains) {
  EXPECT_EQ(Ok("{{(index .list 1)}}", Data()), "y");
  EXPECT_EQ(Ok("{{(.a).b}}", Data()), "B");
  EXPECT_EQ(Ok("{{len (print .name .name)}}", Data()), "6");
}

TEST(TemplateValues, GoPrintsNumbersAndCollections) {
  EXPECT_EQ(Ok("{{.f}} {{.half}} {{.a.n}} {{.count}}", Data()), "1e+06 0.5 3 3");
  EXPECT_EQ(Ok("{{.map}}", Data()), "map[k1:1 k2:2]");
  EXPECT_EQ(Ok("{{.list}}", Data()), "[x y z]");
  EXPECT_EQ(Ok("{{print 1 2 \"a\" 3}}"), "1 2a3");
  EXPECT_EQ(Ok("{{println 1 \"a\"}}"), "1 a\n");
  EXPECT_EQ(Ok("{{0x1F}} {{1e3}} {{'a'}} {{-5}} {{1_000}}"), "31 1000 97 -5 1000");
}

TEST(TemplateValues, TruthFollowsGo) {
  EXPECT_EQ(Ok("{{not 0}} {{not \"\"}} {{not .list}} {{not .nothing}} {{not .map}}", Data()),
            "true true false true false");
}

TEST(TemplateBuiltins, AndOrReturnOperandsAndShortCircuit) {
  EXPECT_EQ(Ok("{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" 3}} {{or 0 \"\"}}"), "0 2 3 ");
  // The erroring call is never evaluated.
  EXPECT_EQ(Ok("{{and false (len 3)}} {{or true (len 3)}}"), "false true");
}

TEST(TemplateBuiltins, Comparisons) {
  EXPECT_EQ(Ok("{{eq 1 1}} {{eq \"a\" \"b\" \"a\"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2.5}}"),
            "true true true true true true false");
  EXPECT_EQ(Ok("{{eq .nothing \"x\"}}", Data()), "false");
  EXPECT_NE(Err("{{eq 1 \"1\"}}").find("incompatible types for comparison"), std::string::npos);
  EXPECT_NE(Err("{{lt .f 2}}", Data()).find("incompatible types for comparison"), std::string::npos);
  EXPECT_NE(Err("{{lt true false}}").find("invalid type for comparison"), std::string::npos);
}

TEST(TemplateBuiltins, LenIndexSlice) {
  EXPECT_EQ(Ok("{{len .list}} {{len .map}} {{len .name}}", Data()), "3 2 3");
  EXPECT_EQ(Ok("{{index .list 2}} {{index .map \"k2\"}} {{index .a \"b\"}}", Data()), "z 2 B");
  EXPECT_EQ(Ok("{{slice .list 1}} {{slice .list 1 2}} {{slice .name 1 2}}", Data()), "[y z] [y] e");
  EXPECT_NE(Err("{{index .list 5}}", Data()).find("index out of range"), std::string::npos);
  EXPECT_NE(Err("{{len 3}}").find("len of type int"), std::string::npos);
}

TEST(TemplateBuiltins, EscapersMatchGo) {
  EXPECT_EQ(Ok(R"({{html "<a href='x'>&\"</a>"}})"), "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;");
  EXPECT_EQ(Ok(R"({{js "it's <b>"}})"), "it\\'s \\u003Cb\\u003E");
  EXPECT_EQ(Ok(R"({{urlquery "a b&c=d/é"}})"), "a+b%26c%3Dd%2F%C3%A9");
}

TEST(TemplateBuiltins, PrintfVerbsFlagsAndWidths) {
  EXPECT_EQ(Ok(R"({{printf "%d|%5d|%-5d|%05d|%x|%X|%o|%+d" 42 42 42 42 255 255 8 3}})"),
            "42|   42|42   |00042|ff|FF|10|+3");
  // Precision pads integers with zeros; a huge one (fuzz finding: it once
  // took quadratic time) is linear.
  EXPECT_EQ(Ok(R"({{printf "%.5d|%.3x|%8.4d|%.0d" 42 10 -7 0}})"), "00042|00a|   -0007|");
  EXPECT_EQ(Ok(R"({{printf "%.200000d" 1 | len}})"), "200000");
  EXPECT_EQ(Ok(R"({{printf "%s|%10s|%-4s|%.2s|%q|%x" "go" "go" "go" "gopher" "a\"b" "hi"}})"),
            "go|        go|go  |go|\"a\\\"b\"|6869");
  EXPECT_EQ(Ok(R"({{printf "%v %v %.2f %6.1f %e %g" 1.5 .f 3.14159 2.0 1234.5 0.000001}})", Data()),
            "1.5 1e+06 3.14    2.0 1.234500e+03 1e-06");
  EXPECT_EQ(Ok(R"({{printf "%t %v %T %T %%" true .nothing 1 "s"}})", Data()), "true <nil> int string %");
  EXPECT_EQ(Ok(R"({{printf "%d %s" "x"}})"), "%!d(string=x) %!s(MISSING)");
  EXPECT_EQ(Ok(R"({{printf "%d" 1 2}})"), "1%!(EXTRA int=2)");
  EXPECT_EQ(Ok(R"({{printf "%v" .list}} {{printf "%q" .list}})", Data()), "[x y z] [\"x\" \"y\" \"z\"]");
}

TEST(TemplateErrors, ParseErrorsNameFileLineAndColumn) {
  std::string e = Err("line one\n{{ .a | }}");
  EXPECT_NE(e.find("t:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("missing command"), std::string::npos) << e;
  e = Err("{{ nosuchfn 1 }}");
  EXPECT_NE(e.find("function \"nosuchfn\" not defined"), std::string::npos) << e;
  EXPECT_NE(Err("{{ if 1 }}x").find("unexpected EOF"), std::string::npos);
  EXPECT_NE(Err("{{ 1 ").find("unclosed action"), std::string::npos);
  EXPECT_NE(Err("{{end}}").find("unexpected {{end}}"), std::string::npos);
  EXPECT_NE(Err("{{ \"abc }}").find("unterminated quoted string"), std::string::npos);
}

TEST(TemplateErrors, ExecutionErrorsNameTheExpression) {
  std::string e = Err("\n  {{ index .list 9 }}", Data());
  EXPECT_NE(e.find("t:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("<index .list 9>"), std::string::npos) << e;
  EXPECT_NE(Err("{{ 1 2 }}").find("can't give argument to non-function"), std::string::npos);
}

TEST(TemplateLimits, RecursionDepthIsBounded) {
  Limits l;
  l.max_depth = 50;
  std::string e = Err(R"({{define "x"}}{{template "x"}}{{end}}{{template "x"}})", Value(), l);
  EXPECT_NE(e.find("exceeded maximum template depth (50)"), std::string::npos) << e;
}

TEST(TemplateLimits, OutputSizeIsBounded) {
  Limits l;
  l.max_output_bytes = 1000;
  Value big = Value::NewList(List(200, Value::String("0123456789")));
  std::string e = Err("{{range .}}{{.}}{{end}}", big, l);
  EXPECT_NE(e.find("template output exceeded 1000 bytes"), std::string::npos) << e;
}

TEST(TemplateLimits, EvaluationStepsAreBounded) {
  Limits l;
  l.max_steps = 1000;
  Value many = Value::NewList(List(5000, Value::Int(1)));
  std::string e = Err("{{range .}}{{end}}", many, l);
  EXPECT_NE(e.find("exceeded 1000 steps"), std::string::npos) << e;
}

TEST(TemplateLimits, DeeplyNestedParenthesesFailToParse) {
  std::string text = "{{" + std::string(500, '(') + "1" + std::string(500, ')') + "}}";
  EXPECT_NE(Err(text).find("nesting exceeds the limit"), std::string::npos);
}

}  // namespace
}  // namespace keelson::helm
