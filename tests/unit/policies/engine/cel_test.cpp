// The CEL subset: each operator, function and macro, the error-absorbing
// logic, step limits, and every compile error message.
#include "policies/engine/cel.h"

#include <gtest/gtest.h>

#include "renderers/manifest/yaml.h"

namespace keelson::policy::cel {
namespace {

constexpr std::string_view kObject = R"(
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {team: payments, tier: frontend}
spec:
  replicas: 3
  ratio: 0.5
  paused: false
  nothing: null
  template:
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.2
      - name: sidecar
        image: nginx:latest
)";

Declarations Decls() {
  Declarations d;
  d.variables = {{"object", Type::kDyn}, {"name", Type::kString}, {"count", Type::kInt}};
  Function twice;
  twice.name = "twice";
  twice.arity = 1;
  twice.result = Type::kInt;
  twice.impl = [](std::span<const Value> args, const Activation&) {
    if (args[0].kind() != Value::Kind::kInt) return Value::Error("twice() needs an int");
    return Value::Int(args[0].AsInt() * 2);
  };
  d.functions.push_back(twice);
  return d;
}

class CelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manifest::ParseOptions options;
    options.file = "object.yaml";
    Result<manifest::Node> node = manifest::ParseYaml(kObject, options);
    ASSERT_TRUE(node.ok()) << node.error().ToString();
    object_ = std::move(node).value();
  }

  // The result as text, or "error: message".
  std::string Run(std::string_view expr, EvalLimits limits = {}) {
    Result<std::shared_ptr<const Program>> program = Compile(expr, Decls());
    if (!program.ok()) return "compile error: " + program.error().ToString();
    Activation act;
    act.variables = {Value::FromNode(object_), Value::String("web"), Value::Int(7)};
    Value v = (*program)->Evaluate(act, limits);
    if (v.IsError()) return "error: " + std::string(v.ErrorMessage());
    std::string out = v.ToDisplayString();
    if (v.IsString()) out = "\"" + out + "\"";
    return out;
  }

  // The compile error as "line:column: message".
  std::string CompileError(std::string_view expr) {
    Result<std::shared_ptr<const Program>> program = Compile(expr, Decls());
    if (program.ok()) return "compiled";
    const Error& e = program.error();
    return std::to_string(e.where.line) + ":" + std::to_string(e.where.column) + ": " + e.message;
  }

  manifest::Node object_;
};

TEST_F(CelTest, Literals) {
  EXPECT_EQ(Run("42"), "42");
  EXPECT_EQ(Run("-42"), "-42");
  EXPECT_EQ(Run("0x1F"), "31");
  EXPECT_EQ(Run("42u"), "42u");
  EXPECT_EQ(Run("1.5"), "1.5");
  EXPECT_EQ(Run("2e3"), "2000");
  EXPECT_EQ(Run("-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(Run("'a\\tb'"), "\"a\tb\"");
  EXPECT_EQ(Run("\"\\u00e9\""), "\"\xc3\xa9\"");
  EXPECT_EQ(Run("r'a\\tb'"), "\"a\\tb\"");
  EXPECT_EQ(Run("'''multi\nline'''"), "\"multi\nline\"");
  EXPECT_EQ(Run("'\\101'"), "\"A\"");
  EXPECT_EQ(Run("true"), "true");
  EXPECT_EQ(Run("null"), "null");
  EXPECT_EQ(Run("[1, 'a', [true]]"), "[1, \"a\", [true]]");
  EXPECT_EQ(Run("{'a': 1, 2: 'b'}"), "{\"a\": 1, 2: \"b\"}");
  EXPECT_EQ(Run("[1, 2,]"), "[1, 2]");
  EXPECT_EQ(Run("// comment\n1"), "1");
}

TEST_F(CelTest, FieldAccess) {
  EXPECT_EQ(Run("object.metadata.name"), "\"web\"");
  EXPECT_EQ(Run("object['metadata']['labels']['team']"), "\"payments\"");
  EXPECT_EQ(Run("object.spec.template.spec.containers[1].name"), "\"sidecar\"");
  EXPECT_EQ(Run("object.spec.template.spec.containers[1u].name"), "\"sidecar\"");
  EXPECT_EQ(Run("object.spec.nothing"), "null");
  EXPECT_EQ(Run(".object.kind"), "\"Deployment\"");
  EXPECT_EQ(Run("object.spec.missing"), "error: no such key 'missing' (guard with has())");
  EXPECT_EQ(Run("object.kind.x"), "error: no such key 'x': the value is string, not a map");
  EXPECT_EQ(Run("object.spec.template.spec.containers[2]"), "error: index out of range: 2 (list size 2)");
  EXPECT_EQ(Run("object.spec.template.spec.containers[-1]"), "error: index out of range: -1 (list size 2)");
  EXPECT_EQ(Run("object.metadata['nope']"), "error: no such key 'nope'");
  EXPECT_EQ(Run("object.spec.template.spec.containers['a']"),
            "error: no matching overload for '[]' applied to (list, string)");
  EXPECT_EQ(Run("{1: 'x'}[1]"), "\"x\"");
  EXPECT_EQ(Run("{'a': 1, 'a': 2}"), "error: duplicate key 'a' in map literal");
  EXPECT_EQ(Run("{object.spec.template: 1}"), "error: map keys must be string, int, uint or bool, found map");
  EXPECT_EQ(Run("{1: 'a', 1u: 'b'}"), "error: duplicate key 1u in map literal");  // numeric keys compare by value
  EXPECT_EQ(Run("{1: 'a'}[1u]"), "\"a\"");
}

TEST_F(CelTest, Has) {
  EXPECT_EQ(Run("has(object.spec.replicas)"), "true");
  EXPECT_EQ(Run("has(object.spec.nothing)"), "true");
  EXPECT_EQ(Run("has(object.spec.missing)"), "false");
  EXPECT_EQ(Run("has(object.status.replicas)"), "error: no such key 'status' (guard with has())");
  EXPECT_EQ(Run("has(object.kind.x)"), "error: has() needs a map, found string before '.x'");
}

TEST_F(CelTest, Comparisons) {
  EXPECT_EQ(Run("1 == 1"), "true");
  EXPECT_EQ(Run("1 != 2"), "true");
  EXPECT_EQ(Run("1 == 1.0"), "true");
  EXPECT_EQ(Run("1u == 1"), "true");
  EXPECT_EQ(Run("1 == 'a'"), "false");
  EXPECT_EQ(Run("null == null"), "true");
  EXPECT_EQ(Run("object.spec.nothing == null"), "true");
  EXPECT_EQ(Run("[1, 2] == [1, 2.0]"), "true");
  EXPECT_EQ(Run("{'a': 1} == {'a': 1}"), "true");
  EXPECT_EQ(Run("object.metadata.labels == {'tier': 'frontend', 'team': 'payments'}"), "true");
  EXPECT_EQ(Run("1 < 2"), "true");
  EXPECT_EQ(Run("2 <= 2"), "true");
  EXPECT_EQ(Run("3 > 2.5"), "true");
  EXPECT_EQ(Run("-1 < 1u"), "true");
  EXPECT_EQ(Run("2 >= 3"), "false");
  EXPECT_EQ(Run("'abc' < 'abd'"), "true");
  EXPECT_EQ(Run("false < true"), "true");
  EXPECT_EQ(Run("object.spec.replicas >= 2"), "true");
  EXPECT_EQ(Run("object.spec.ratio < 1"), "true");
  EXPECT_EQ(Run("object.kind < 1"), "error: no matching overload for '<' applied to (string, int)");
  EXPECT_EQ(Run("double('NaN') < 1.0"), "false");
}

TEST_F(CelTest, LogicalOperatorsAbsorbErrors) {
  EXPECT_EQ(Run("true && true"), "true");
  EXPECT_EQ(Run("true && false"), "false");
  EXPECT_EQ(Run("false || true"), "true");
  EXPECT_EQ(Run("false || false"), "false");
  EXPECT_EQ(Run("!true"), "false");
  EXPECT_EQ(Run("!!true"), "true");
  // Errors are absorbed by the deciding value on either side.
  EXPECT_EQ(Run("false && object.missing"), "false");
  EXPECT_EQ(Run("object.missing && false"), "false");
  EXPECT_EQ(Run("true || object.missing"), "true");
  EXPECT_EQ(Run("object.missing || true"), "true");
  EXPECT_EQ(Run("object.missing && true"), "error: no such key 'missing' (guard with has())");
  EXPECT_EQ(Run("false || object.missing"), "error: no such key 'missing' (guard with has())");
  EXPECT_EQ(Run("object.spec.replicas && true"), "error: no matching overload for '&&' applied to (int, bool)");
  EXPECT_EQ(Run("!object.kind"), "error: no matching overload for '!' applied to (string)");
}

TEST_F(CelTest, In) {
  EXPECT_EQ(Run("2 in [1, 2, 3]"), "true");
  EXPECT_EQ(Run("'x' in [1, 2]"), "false");
  EXPECT_EQ(Run("'team' in object.metadata.labels"), "true");
  EXPECT_EQ(Run("'owner' in object.metadata.labels"), "false");
  EXPECT_EQ(Run("1 in object.kind"), "error: no matching overload for 'in' applied to (int, string)");
}

TEST_F(CelTest, Arithmetic) {
  EXPECT_EQ(Run("1 + 2 * 3"), "7");
  EXPECT_EQ(Run("(1 + 2) * 3"), "9");
  EXPECT_EQ(Run("7 / 2"), "3");
  EXPECT_EQ(Run("-7 % 3"), "-1");
  EXPECT_EQ(Run("10 - 20"), "-10");
  EXPECT_EQ(Run("3u - 1u"), "2u");
  EXPECT_EQ(Run("1.5 * 2.0"), "3");
  EXPECT_EQ(Run("1.0 / 0.0"), "+Inf");
  EXPECT_EQ(Run("-object.spec.replicas"), "-3");
  EXPECT_EQ(Run("'ab' + 'cd'"), "\"abcd\"");
  EXPECT_EQ(Run("[1] + [2]"), "[1, 2]");
  EXPECT_EQ(Run("object.spec.replicas * 2"), "6");
  EXPECT_EQ(Run("1 / 0"), "error: division by zero");
  EXPECT_EQ(Run("1 % 0"), "error: modulus by zero");
  EXPECT_EQ(Run("9223372036854775807 + 1"), "error: integer overflow");
  EXPECT_EQ(Run("-9223372036854775808 / -1"), "error: integer overflow");
  EXPECT_EQ(Run("-(-9223372036854775808)"), "error: integer overflow");
  EXPECT_EQ(Run("0u - 1u"), "error: unsigned integer overflow");
  EXPECT_EQ(Run("object.spec.replicas + object.spec.ratio"),
            "error: no matching overload for '+' applied to (int, double)");
  EXPECT_EQ(Run("object.spec.ratio % 2.0"), "error: no matching overload for '%' applied to (double, double)");
}

TEST_F(CelTest, Ternary) {
  EXPECT_EQ(Run("object.spec.replicas > 1 ? 'many' : 'one'"), "\"many\"");
  EXPECT_EQ(Run("false ? 1 : true ? 2 : 3"), "2");
  EXPECT_EQ(Run("object.kind ? 1 : 2"), "error: ternary condition must be bool, found string");
  EXPECT_EQ(Run("true ? 1 : object.missing"), "1");
}

TEST_F(CelTest, StringFunctions) {
  EXPECT_EQ(Run("'nginx:latest'.endsWith(':latest')"), "true");
  EXPECT_EQ(Run("'nginx:latest'.startsWith('nginx')"), "true");
  EXPECT_EQ(Run("'nginx:latest'.contains('x:l')"), "true");
  EXPECT_EQ(Run("'registry.io/app@sha256:ab'.matches('@sha256:[0-9a-f]+$')"), "true");
  EXPECT_EQ(Run("matches('abc', '^b')"), "false");
  EXPECT_EQ(Run("object.kind.matches(name)"), "false");
  EXPECT_EQ(Run("'ab'.matches(name + '[')"), "error: invalid regular expression: missing closing ]");
  EXPECT_EQ(Run("size('héllo')"), "5");
  EXPECT_EQ(Run("'abc'.size()"), "3");
  EXPECT_EQ(Run("size(object.metadata.labels)"), "2");
  EXPECT_EQ(Run("size(object.spec.template.spec.containers)"), "2");
  EXPECT_EQ(Run("size(object.spec.replicas)"), "error: no matching overload for 'size' applied to (int)");
  EXPECT_EQ(Run("'MiXed'.lowerAscii()"), "\"mixed\"");
  EXPECT_EQ(Run("'MiXed'.upperAscii()"), "\"MIXED\"");
  EXPECT_EQ(Run("'  x '.trim()"), "\"x\"");
  EXPECT_EQ(Run("'a,b,,c'.split(',')"), "[\"a\", \"b\", \"\", \"c\"]");
  EXPECT_EQ(Run("['a', 'b'].join('-')"), "\"a-b\"");
  EXPECT_EQ(Run("['a', 'b'].join()"), "\"ab\"");
  EXPECT_EQ(Run("['a', 1].join()"), "error: join() needs a list of strings, found int at index 1");
  EXPECT_EQ(Run("'a.b.c'.replace('.', '/')"), "\"a/b/c\"");
  EXPECT_EQ(Run("'héllo'.indexOf('l')"), "2");
  EXPECT_EQ(Run("'abc'.indexOf('z')"), "-1");
  EXPECT_EQ(Run("object.spec.replicas.startsWith('a')"),
            "error: no matching overload for 'startsWith' applied to (int, string)");
}

TEST_F(CelTest, Conversions) {
  EXPECT_EQ(Run("int('42')"), "42");
  EXPECT_EQ(Run("int(2.9)"), "2");
  EXPECT_EQ(Run("int(5u)"), "5");
  EXPECT_EQ(Run("uint(5)"), "5u");
  EXPECT_EQ(Run("double(2)"), "2");
  EXPECT_EQ(Run("string(12)"), "\"12\"");
  EXPECT_EQ(Run("string(true)"), "\"true\"");
  EXPECT_EQ(Run("bool('true')"), "true");
  EXPECT_EQ(Run("dyn(1) + 1"), "2");
  EXPECT_EQ(Run("int('x')"), "error: int() cannot parse 'x'");
  EXPECT_EQ(Run("uint(-1)"), "error: uint() range error: negative value");
  EXPECT_EQ(Run("int(1e30)"), "error: int() range error: value does not fit in int");
  EXPECT_EQ(Run("bool('maybe')"), "error: bool() cannot parse 'maybe'");
  EXPECT_EQ(Run("double('1.5x')"), "error: double() cannot parse '1.5x'");
}

TEST_F(CelTest, Macros) {
  const std::string containers = "object.spec.template.spec.containers";
  EXPECT_EQ(Run(containers + ".all(c, has(c.image))"), "true");
  EXPECT_EQ(Run(containers + ".all(c, !c.image.endsWith(':latest'))"), "false");
  EXPECT_EQ(Run(containers + ".exists(c, c.name == 'sidecar')"), "true");
  EXPECT_EQ(Run(containers + ".exists_one(c, c.name.startsWith('s'))"), "true");
  EXPECT_EQ(Run("[1, 1].exists_one(x, x == 1)"), "false");
  EXPECT_EQ(Run(containers + ".filter(c, c.image.endsWith(':latest')).map(c, c.name)"), "[\"sidecar\"]");
  EXPECT_EQ(Run("[1, 2, 3].map(x, x > 1, x * 10)"), "[20, 30]");
  EXPECT_EQ(Run("object.metadata.labels.all(k, k.size() > 2)"), "true");
  EXPECT_EQ(Run("object.metadata.labels.map(k, object.metadata.labels[k])"), "[\"payments\", \"frontend\"]");
  EXPECT_EQ(Run("[[1, 2], [3]].all(l, l.all(x, x > 0))"), "true");
  EXPECT_EQ(Run("[1, 2].exists(x, [3].exists(x, x == 3))"), "true");  // inner x shadows outer
  EXPECT_EQ(Run("[].all(x, x)"), "true");
  EXPECT_EQ(Run("[].exists(x, x)"), "false");
  // all/exists absorb errors when a deciding element exists.
  EXPECT_EQ(Run("[{'a': 1}, {}].exists(m, m.a == 1)"), "true");
  EXPECT_EQ(Run("[{}, {'a': 1}].all(m, m.a == 2)"), "false");
  EXPECT_EQ(Run("[{}, {'a': 2}].all(m, m.a == 2)"), "error: no such key 'a' (guard with has())");
  EXPECT_EQ(Run("[1].all(x, x)"), "error: the condition of all() must be bool, found int");
  EXPECT_EQ(Run("[{}].filter(m, m.a == 1)"), "error: no such key 'a' (guard with has())");
  EXPECT_EQ(Run("object.kind.all(x, true)"), "error: 'all' needs a list or map, found string");
}

TEST_F(CelTest, TypedVariablesAndExtensions) {
  EXPECT_EQ(Run("name + '-' + string(count)"), "\"web-7\"");
  EXPECT_EQ(Run("twice(count)"), "14");
  EXPECT_EQ(Run("twice(object.kind)"), "error: twice() needs an int");
}

TEST_F(CelTest, StepLimitStopsRunawayExpressions) {
  EvalLimits limits;
  limits.max_steps = 10'000;
  std::string nested = "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10]"
                       ".all(c, [1,2,3,4,5,6,7,8,9,10].all(d, a + b + c + d > 0))))";
  EXPECT_EQ(Run(nested, limits), "error: evaluation exceeded its budget of 10000 steps");
  // An exhausted budget is not absorbed by ||.
  EXPECT_EQ(Run("(" + nested + ") || true", limits), "error: evaluation exceeded its budget of 10000 steps");
  limits.max_steps = 1'000'000;
  EXPECT_EQ(Run(nested, limits), "true");
  // Strings cannot grow without bound.
  EvalLimits small;
  small.max_string_bytes = 8;
  EXPECT_EQ(Run("'abcde' + 'fghij'", small), "error: string longer than 8 bytes");
  small.max_list_size = 3;
  EXPECT_EQ(Run("[1, 2] + [3, 4]", small), "error: list longer than 3 items");
  EXPECT_EQ(Run("'a,b,c,d'.split(',')", small), "error: list longer than 3 items");
  EXPECT_EQ(Run("'abcd'.split('')", small), "error: list longer than 3 items");
}

TEST_F(CelTest, LexerErrors) {
  EXPECT_EQ(CompileError("1 # 2"), "1:3: unexpected character '#'");
  EXPECT_EQ(CompileError("'abc"), "1:1: unterminated string literal");
  EXPECT_EQ(CompileError("'ab\nc'"), "1:1: unterminated string literal (newline in string)");
  EXPECT_EQ(CompileError("'\\q'"), "1:2: invalid escape sequence '\\q'");
  EXPECT_EQ(CompileError("'\\u12'"), "1:2: invalid escape sequence '\\u'");
  EXPECT_EQ(CompileError("99999999999999999999"), "1:1: integer literal out of range");
  EXPECT_EQ(CompileError("9223372036854775808"), "1:1: integer literal out of range");
  EXPECT_EQ(CompileError("1e"), "1:1: invalid number literal: exponent has no digits");
  EXPECT_EQ(CompileError("12abc"), "1:1: invalid number literal");
  EXPECT_EQ(CompileError("b'xyz'"), "1:1: bytes literals are not supported");
  EXPECT_EQ(CompileError("1 \x01"), "1:3: unexpected character (byte 0x01)");
}

TEST_F(CelTest, ParseErrors) {
  EXPECT_EQ(CompileError("(1 + 2"), "1:7: expected ')' but found end of expression");
  EXPECT_EQ(CompileError("1 +"), "1:4: unexpected end of expression");
  EXPECT_EQ(CompileError("1 2"), "1:3: unexpected number after the end of the expression");
  EXPECT_EQ(CompileError("object."), "1:8: expected a field or method name after '.' but found end of expression");
  EXPECT_EQ(CompileError("true ? 1"), "1:9: expected ':' but found end of expression");
  EXPECT_EQ(CompileError("[1, 2"), "1:6: expected ']' but found end of expression");
  EXPECT_EQ(CompileError("{'a' 1}"), "1:6: expected ':' but found number");
  EXPECT_EQ(CompileError("*"), "1:1: unexpected '*'");
  EXPECT_EQ(CompileError("for"), "1:1: 'for' is a reserved word and cannot be used as a name");
  EXPECT_EQ(CompileError("in"), "1:1: unexpected 'in'");
  EXPECT_EQ(CompileError("objet.kind"), "1:1: undeclared reference to 'objet'");
  EXPECT_EQ(CompileError("\n  foo"), "2:3: undeclared reference to 'foo'");
  EXPECT_EQ(CompileError("has(object)"), "1:5: has() needs a field selection such as has(object.spec.replicas)");
  EXPECT_EQ(CompileError("frobnicate(1)"), "1:1: unknown function 'frobnicate'");
  EXPECT_EQ(CompileError("object.frobnicate()"), "1:8: unknown method 'frobnicate'");
  EXPECT_EQ(CompileError("object.kind.int()"), "1:13: 'int' is a function, not a method: write int(x)");
  EXPECT_EQ(CompileError("startsWith('a', 'b')"), "1:1: 'startsWith' is a method: write x.startsWith(...)");
  EXPECT_EQ(CompileError("size(1, 2)"), "1:1: 'size' takes 1 argument, found 2");
  EXPECT_EQ(CompileError("'a'.startsWith()"), "1:5: 'startsWith' takes 1 argument, found 0");
  EXPECT_EQ(CompileError("twice()"), "1:1: 'twice' takes 1 argument, found 0");
  EXPECT_EQ(CompileError("all([1], x, x)"), "1:1: all() is a macro and must be called on a list or map, as list.all(x, ...)");
  EXPECT_EQ(CompileError("[1].all(1, true)"), "1:9: the first argument of all() must be a variable name, as in list.all(x, ...)");
  EXPECT_EQ(CompileError("[1].all(x)"), "1:5: all() takes 2 arguments, found 1");
  EXPECT_EQ(CompileError("[1].exists(x, true, false)"), "1:5: exists() takes 2 arguments, found 3");
  EXPECT_EQ(CompileError("[1].map(x, true, x, x)"), "1:5: map() takes 2 or 3 arguments, found 4");
  EXPECT_EQ(CompileError("x"), "1:1: undeclared reference to 'x'");
  EXPECT_EQ(CompileError("[1].all(x, x > 0) && x > 0"), "1:22: undeclared reference to 'x'");
  EXPECT_EQ(CompileError("'a'.matches('a(b')"), "1:15: invalid regular expression: missing ')'");
}

TEST_F(CelTest, TypeErrors) {
  EXPECT_EQ(CompileError("1 + 'a'"), "1:3: no matching overload for '+' applied to (int, string)");
  EXPECT_EQ(CompileError("1 + 1.0"), "1:3: no matching overload for '+' applied to (int, double)");
  EXPECT_EQ(CompileError("'a' - 'b'"), "1:5: no matching overload for '-' applied to (string, string)");
  EXPECT_EQ(CompileError("true + object"), "1:6: no matching overload for '+' applied to (bool, dyn)");
  EXPECT_EQ(CompileError("'a' < 1"), "1:5: no matching overload for '<' applied to (string, int)");
  EXPECT_EQ(CompileError("1 in 'abc'"), "1:3: no matching overload for 'in' applied to (int, string)");
  EXPECT_EQ(CompileError("1 && true"), "1:1: '&&' needs bool operands, found int");
  EXPECT_EQ(CompileError("true || 'x'"), "1:9: '||' needs bool operands, found string");
  EXPECT_EQ(CompileError("!1"), "1:1: '!' needs a bool operand, found int");
  EXPECT_EQ(CompileError("-'a'"), "1:1: no matching overload for '-' applied to (string)");
  EXPECT_EQ(CompileError("1 ? 2 : 3"), "1:1: ternary condition must be bool, found int");
  EXPECT_EQ(CompileError("'abc'.x"), "1:7: type 'string' has no fields (selecting 'x')");
  EXPECT_EQ(CompileError("name.x"), "1:6: type 'string' has no fields (selecting 'x')");
  EXPECT_EQ(CompileError("[1]['a']"), "1:4: no matching overload for '[]' applied to (list, string)");
  EXPECT_EQ(CompileError("1[0]"), "1:2: no matching overload for '[]' applied to (int, int)");
  EXPECT_EQ(CompileError("size(true)"), "1:1: no matching overload for 'size' applied to (bool)");
  EXPECT_EQ(CompileError("count.startsWith('a')"), "1:7: no matching overload for 'startsWith' applied to (int, string)");
  EXPECT_EQ(CompileError("{[1]: 2}"), "1:2: map keys must be string, int, uint or bool, found list");
  EXPECT_EQ(CompileError("'abc'.all(x, true)"), "1:7: 'all' needs a list or map, found string");
  EXPECT_EQ(CompileError("[1].all(x, 'yes')"), "1:12: the condition of all() must be bool, found string");
  EXPECT_EQ(CompileError("int(true)"), "1:1: no matching overload for 'int' applied to (bool)");
}

TEST_F(CelTest, SizeLimits) {
  CompileLimits limits;
  limits.max_source_bytes = 10;
  Result<std::shared_ptr<const Program>> p = Compile("1 + 2 + 3 + 4", Decls(), limits);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message, "expression is longer than 10 bytes");
  EXPECT_EQ(CompileError(std::string(100, '(') + "1" + std::string(100, ')')),
            "1:22: expression nests too deeply (more than 64 levels)");
  std::string chain = "1";
  for (int i = 0; i < 100; ++i) chain += " + 1";
  EXPECT_EQ(CompileError(chain), "1:255: expression nests too deeply (more than 64 levels)");
  limits = {};
  limits.max_nodes = 5;
  p = Compile("[1, 2, 3, 4, 5, 6]", Decls(), limits);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message, "expression is too large (more than 5 nodes)");
}

TEST_F(CelTest, ResultTypeIsInferred) {
  auto type_of = [](std::string_view expr) {
    Result<std::shared_ptr<const Program>> p = Compile(expr, Decls());
    return p.ok() ? std::string(TypeName((*p)->result_type())) : p.error().message;
  };
  EXPECT_EQ(type_of("object.spec.replicas > 1"), "bool");
  EXPECT_EQ(type_of("object.spec"), "dyn");
  EXPECT_EQ(type_of("size(object.kind)"), "int");
  EXPECT_EQ(type_of("'a' + name"), "string");
  EXPECT_EQ(type_of("[1].map(x, x)"), "list");
}

}  // namespace
}  // namespace keelson::policy::cel
