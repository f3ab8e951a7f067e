/**
 * migrate_repo/lib/pyjson.ts and migrate_repo/lib/py.ts against Python 3's json, str and
 * time.strptime. Every expected value below was produced by Python 3.11 (the interpreter on the
 * development machine) and pasted here as a literal; the tests do not need Python.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  PyFloat, PyInt, PyJsonDecodeError, PyRecursionError, PyValueError, dumps, isObject, loads,
  type PyJson, type PyObject,
} from '../../migrate_repo/lib/pyjson.js';
import { istitle, lower, strptimeYmd } from '../../migrate_repo/lib/py.js';

// Generated at development time with Python 3.11.7 (json, str, time.strptime); do not edit by hand.
const ROUND_TRIPS: [string, string][] = [
  ["{\"heat_template_version\": \"2013-05-23\", \"parameters\": {\"p\": {\"Type\": \"String\"}}}", "{\"heat_template_version\": \"2013-05-23\", \"parameters\": {\"p\": {\"Type\": \"String\"}}}"],
  ["  {\"a\":1,\"b\":[1.0,2.50,-0.0,1e5,1E+2,1e-7,0.1,100000000000000000000000000001,-0],\"c\":{}}\n", "{\"a\": 1, \"b\": [1.0, 2.5, -0.0, 100000.0, 100.0, 1e-07, 0.1, 100000000000000000000000000001, 0], \"c\": {}}"],
  ["{\"a\": {\"b\": [true, false, null, {}, []]}, \"z\": \"x\"}", "{\"a\": {\"b\": [true, false, null, {}, []]}, \"z\": \"x\"}"],
  ["[1e16, 1e15, 1e-4, 1e-5, 9.999999999999999e-5, 1.5e300, 5e-324, 1.7976931348623157e308, 1e400, -1e400, 123456789012345678.0, 0.30000000000000004, 2.5e-3, 1.0e1, 1000000000000000.0, 9999999999999998.0]", "[1e+16, 1000000000000000.0, 0.0001, 1e-05, 9.999999999999999e-05, 1.5e+300, 5e-324, 1.7976931348623157e+308, Infinity, -Infinity, 1.2345678901234568e+17, 0.30000000000000004, 0.0025, 10.0, 1000000000000000.0, 9999999999999998.0]"],
  ["[NaN, Infinity, -Infinity, 12345678901234567890123456789012345678901234567890, -98765432109876543210]", "[NaN, Infinity, -Infinity, 12345678901234567890123456789012345678901234567890, -98765432109876543210]"],
  ["\"caf\\u00e9 \u00e9 \u2028 \ud83d\ude00 \\ud83d\\ude00 \\uD83D\\uDE00 \\ud800 \\udfff x\\/y \\b\\f\\n\\r\\t \\u0000\\u001f\\u007f \u007f \\\"q\\\" \\\\\"", "\"caf\\u00e9 \\u00e9 \\u2028 \\ud83d\\ude00 \\ud83d\\ude00 \\ud83d\\ude00 \\ud800 \\udfff x/y \\b\\f\\n\\r\\t \\u0000\\u001f\\u007f \\u007f \\\"q\\\" \\\\\""],
  ["{\"a\": 1, \"b\": 2, \"a\": 3, \"c\": 4, \"b\": 5}", "{\"a\": 3, \"b\": 5, \"c\": 4}"],
  ["{\"__proto__\": 1, \"constructor\": 2, \"\": 3, \"toString\": {\"x\": []}}", "{\"__proto__\": 1, \"constructor\": 2, \"\": 3, \"toString\": {\"x\": []}}"],
  ["\t\r\n {\"k\" : [ 1 , 2 ] , \"l\":{\"m\" :\"n\"}} \t\r\n", "{\"k\": [1, 2], \"l\": {\"m\": \"n\"}}"],
  ["{\"description\": \"line1\\nline2 \\\"quoted\\\" tab\\t\", \"resources\": {\"s\": {\"type\": \"OS::Nova::Server\", \"properties\": {\"user_data\": \"#!/bin/bash\\necho \\u00e9 > /tmp/x\\n\"}}}}", "{\"description\": \"line1\\nline2 \\\"quoted\\\" tab\\t\", \"resources\": {\"s\": {\"type\": \"OS::Nova::Server\", \"properties\": {\"user_data\": \"#!/bin/bash\\necho \\u00e9 > /tmp/x\\n\"}}}}"],
  ["[0, -0, 0.0, -0.0, 0e0, -0e-0, 1E400, 0.000001, 0.0000001, 123e-20, 1.5, 100.0, 1e2, 12.5e1]", "[0, 0, 0.0, -0.0, 0.0, -0.0, Infinity, 1e-06, 1e-07, 1.23e-18, 1.5, 100.0, 100.0, 125.0]"],
  ["\"\ud83d\ude00\ud800\udc00\udbff\udfff\uffff\ufeff\"", "\"\\ud83d\\ude00\\ud800\\udc00\\udbff\\udfff\\uffff\\ufeff\""],
  ["[]", "[]"],
  ["{}", "{}"],
  ["\"\"", "\"\""],
  ["null", "null"],
  ["true", "true"],
  ["false", "false"],
  ["0", "0"],
  ["-1", "-1"],
  ["3.14", "3.14"],
];

/** [input, Python message, Python pos] */
const DECODE_ERRORS: [string, string, number][] = [
  ["", "Expecting value: line 1 column 1 (char 0)", 0],
  [" ", "Expecting value: line 1 column 2 (char 1)", 1],
  ["[", "Expecting value: line 1 column 2 (char 1)", 1],
  ["{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)", 1],
  ["{\"a\"", "Expecting ':' delimiter: line 1 column 5 (char 4)", 4],
  ["{\"a\":", "Expecting value: line 1 column 6 (char 5)", 5],
  ["{\"a\": }", "Expecting value: line 1 column 7 (char 6)", 6],
  ["{\"a\" 1}", "Expecting ':' delimiter: line 1 column 6 (char 5)", 5],
  ["{\"a\":1,}", "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)", 7],
  ["[1,]", "Expecting value: line 1 column 4 (char 3)", 3],
  ["[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)", 3],
  ["{1:2}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)", 1],
  ["\"abc", "Unterminated string starting at: line 1 column 1 (char 0)", 0],
  ["\"a\\", "Unterminated string starting at: line 1 column 1 (char 0)", 0],
  ["\"\\x\"", "Invalid \\escape: line 1 column 2 (char 1)", 1],
  ["\"\\u12\"", "Invalid \\uXXXX escape: line 1 column 3 (char 2)", 2],
  ["\"\\u1234", "Invalid \\uXXXX escape: line 1 column 3 (char 2)", 2],
  ["\"\\u123g\"", "Invalid \\uXXXX escape: line 1 column 3 (char 2)", 2],
  ["\"\\ud800\\uzzzz\"", "Invalid \\uXXXX escape: line 1 column 9 (char 8)", 8],
  ["\"a\nb\"", "Invalid control character at: line 1 column 3 (char 2)", 2],
  ["\"a\tb\"", "Invalid control character at: line 1 column 3 (char 2)", 2],
  ["\"\u001f\"", "Invalid control character at: line 1 column 2 (char 1)", 1],
  ["nul", "Expecting value: line 1 column 1 (char 0)", 0],
  ["-", "Expecting value: line 1 column 1 (char 0)", 0],
  ["-a", "Expecting value: line 1 column 1 (char 0)", 0],
  ["01", "Extra data: line 1 column 2 (char 1)", 1],
  ["1.", "Extra data: line 1 column 2 (char 1)", 1],
  ["1.e5", "Extra data: line 1 column 2 (char 1)", 1],
  ["1e", "Extra data: line 1 column 2 (char 1)", 1],
  ["1e+", "Extra data: line 1 column 2 (char 1)", 1],
  [".5", "Expecting value: line 1 column 1 (char 0)", 0],
  ["+1", "Expecting value: line 1 column 1 (char 0)", 0],
  ["1 2", "Extra data: line 1 column 3 (char 2)", 2],
  ["\ufeff1", "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)", 0],
  ["-Inf", "Expecting value: line 1 column 1 (char 0)", 0],
  ["infinity", "Expecting value: line 1 column 1 (char 0)", 0],
  ["nan", "Expecting value: line 1 column 1 (char 0)", 0],
  ["tru", "Expecting value: line 1 column 1 (char 0)", 0],
  ["True", "Expecting value: line 1 column 1 (char 0)", 0],
  ["None", "Expecting value: line 1 column 1 (char 0)", 0],
  ["'a'", "Expecting value: line 1 column 1 (char 0)", 0],
  ["[1,\n 2,\n x]", "Expecting value: line 3 column 2 (char 9)", 9],
  ["\"\ud83d\ude00\" x", "Extra data: line 1 column 5 (char 4)", 4],
  ["\"\ud83d\ude00\ud83d\ude00\n\ud83d\ude00\" x", "Invalid control character at: line 1 column 4 (char 3)", 3],
  ["{\"a\":1 \"b\"}", "Expecting ',' delimiter: line 1 column 8 (char 7)", 7],
  ["{\"a\":1}}", "Extra data: line 1 column 8 (char 7)", 7],
  ["[1]]", "Extra data: line 1 column 4 (char 3)", 3],
  ["[,]", "Expecting value: line 1 column 2 (char 1)", 1],
  ["{,}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)", 1],
  ["{\"a\":1,,\"b\":2}", "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)", 7],
  ["\n\n  {\"a\": [1, 2,\n   3 4]}", "Expecting ',' delimiter: line 4 column 6 (char 22)", 22],
];

/** [double, Python json.dumps(float)] */
const FLOATS: [number, string][] = [
  [0, "0.0"],
  [-0, "-0.0"],
  [0.5, "0.5"],
  [10.0, "10.0"],
  [1e+16, "1e+16"],
  [-1e+16, "-1e+16"],
  [1000000000000000.0, "1000000000000000.0"],
  [0.0001, "0.0001"],
  [1e-05, "1e-05"],
  [9.999999999999999e-05, "9.999999999999999e-05"],
  [0.00012, "0.00012"],
  [1.5e+300, "1.5e+300"],
  [5e-324, "5e-324"],
  [2.2250738585072014e-308, "2.2250738585072014e-308"],
  [1.7976931348623157e+308, "1.7976931348623157e+308"],
  [Infinity, "Infinity"],
  [-Infinity, "-Infinity"],
  [NaN, "NaN"],
  [0.1, "0.1"],
  [0.30000000000000004, "0.30000000000000004"],
  [0.3333333333333333, "0.3333333333333333"],
  [0.6666666666666666, "0.6666666666666666"],
  [123456789.123, "123456789.123"],
  [1e+22, "1e+22"],
  [1e+21, "1e+21"],
  [1e-07, "1e-07"],
  [1.2345678901234568e+16, "1.2345678901234568e+16"],
  [9007199254740992.0, "9007199254740992.0"],
  [4.35, "4.35"],
  [100.0, "100.0"],
  [1e+100, "1e+100"],
  [1.2345e-10, "1.2345e-10"],
  [-2.5e-05, "-2.5e-05"],
];

/** [string, Python json.dumps(str)] */
const STRINGS: [string, string][] = [
  ["", "\"\""],
  ["plain ascii ~!@#$%^&*()_+{}|:<>?", "\"plain ascii ~!@#$%^&*()_+{}|:<>?\""],
  ["\"", "\"\\\"\""],
  ["\\", "\"\\\\\""],
  ["/", "\"/\""],
  ["\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\""],
  ["\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f", "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\""],
  ["\u007f", "\"\\u007f\""],
  ["\u0080\u00ff", "\"\\u0080\\u00ff\""],
  ["\u00e9", "\"\\u00e9\""],
  ["\u2028\u2029", "\"\\u2028\\u2029\""],
  ["\uffff", "\"\\uffff\""],
  ["\ud83d\ude00", "\"\\ud83d\\ude00\""],
  ["\ud800\udc00\udbff\udfff", "\"\\ud800\\udc00\\udbff\\udfff\""],
  ["\ud800", "\"\\ud800\""],
  ["\udfff", "\"\\udfff\""],
  ["a\ud800b\udc00c", "\"a\\ud800b\\udc00c\""],
  ["Ab\u0130\u00df\u4e2d\u6587", "\"Ab\\u0130\\u00df\\u4e2d\\u6587\""],
];

/** [string, Python str.istitle()] */
const ISTITLE: [string, boolean][] = [
  ["String", true],
  ["Number", true],
  ["Json", true],
  ["Boolean", true],
  ["CommaDelimitedList", false],
  ["STRING", false],
  ["string", false],
  ["Comma_delimited_list", false],
  ["Comma Delimited List", true],
  ["Json1", true],
  ["1Json", true],
  ["", false],
  ["1", false],
  ["_", false],
  ["A", true],
  ["a", false],
  ["Ab Cd", true],
  ["AB", false],
  ["aB", false],
  ["A1b", false],
  ["A b", false],
  ["Ab'c", false],
  ["Ab'C", true],
  ["A\u0301b", false],
  ["\u01c5a", true],
  ["\u01c5A", false],
  ["\u01c4a", true],
  ["\u1f88\u1f00", true],
  ["\u2160\u2170", true],
  ["\u24b6\u24d0", true],
  ["\u02b0A", false],
  ["A\u02b0", true],
  ["\u00c9", true],
  ["\u00c9a", true],
  ["\u03a3\u03c2", true],
  ["\u03a3\u03a3", false],
  ["\ud801\udc00\ud801\udc28", true],
  ["\u01c5", true],
  ["\u01c4\u01c6", true],
  ["\u0295", false],
  ["A\u0295", true],
  ["\ua7cb", false],
  ["A\ua7cb", true],
];

/** [string, Python str.lower()] */
const LOWER: [string, string][] = [
  ["String", "string"],
  ["STRING", "string"],
  ["CommaDelimitedList", "commadelimitedlist"],
  ["\u0130", "i\u0307"],
  ["\u0130stanbul", "i\u0307stanbul"],
  ["\u0391\u03a3", "\u03b1\u03c2"],
  ["\u03a3\u0391\u03a3 \u0391\u03a3.", "\u03c3\u03b1\u03c2 \u03b1\u03c2."],
  ["\u0391\u03a3'", "\u03b1\u03c2'"],
  ["\u0391\u03a3'\u0391", "\u03b1\u03c3'\u03b1"],
  ["\u0391'\u03a3", "\u03b1'\u03c2"],
  ["\u03a3", "\u03c3"],
  [" \u03a3 ", " \u03c3 "],
  ["\u0391\u03a3\u0301", "\u03b1\u03c2\u0301"],
  ["\u0391\u03a3\u0301\u0391", "\u03b1\u03c3\u0301\u03b1"],
  ["\u1e9e", "\u00df"],
  ["\u00df", "\u00df"],
  ["\u01c5", "\u01c6"],
  ["\u216b", "\u217b"],
  ["\u24b6", "\u24d0"],
  ["\ud801\udc00", "\ud801\udc28"],
  ["\ud83a\udd00", "\ud83a\udd22"],
  ["\u0295\u03a3", "\u0295\u03c2"],
  ["A\ua7cb\u03a3", "a\ua7cb\u03c3"],
  ["\ua7cb", "\ua7cb"],
  ["A\u03a3\ua7cb", "a\u03c2\ua7cb"],
  ["\u1c89", "\u1c89"],
  ["K\u212a\u2126\u00c5", "kk\u03c9\u00e5"],
];

/** [value, Python time.strptime(value, '%Y-%m-%d') or null for ValueError] */
const STRPTIME: [string, { year: number; month: number; day: number } | null][] = [
  ["2013-05-23", { year: 2013, month: 5, day: 23 }],
  ["2010-09-09", { year: 2010, month: 9, day: 9 }],
  ["2012-12-12", { year: 2012, month: 12, day: 12 }],
  ["2014-04-24", { year: 2014, month: 4, day: 24 }],
  ["2014-04-23", { year: 2014, month: 4, day: 23 }],
  ["2014-10-16", { year: 2014, month: 10, day: 16 }],
  ["2015-04-30", { year: 2015, month: 4, day: 30 }],
  ["2013-5-3", { year: 2013, month: 5, day: 3 }],
  ["2013-05-3", { year: 2013, month: 5, day: 3 }],
  ["2013-5-03", { year: 2013, month: 5, day: 3 }],
  ["2013-05- 3", { year: 2013, month: 5, day: 3 }],
  ["2013-05-  3", null],
  ["2013- 5-03", null],
  [" 2013-05-23", null],
  ["2013-05-23 ", null],
  ["2013-05-23\n", null],
  ["2013-02-29", null],
  ["2012-02-29", { year: 2012, month: 2, day: 29 }],
  ["1900-02-29", null],
  ["2000-02-29", { year: 2000, month: 2, day: 29 }],
  ["2013-02-30", null],
  ["2013-04-31", null],
  ["2013-13-01", null],
  ["2013-00-10", null],
  ["2013-05-00", null],
  ["2013-05-32", null],
  ["2013-05-35", null],
  ["0000-01-01", null],
  ["0001-01-01", { year: 1, month: 1, day: 1 }],
  ["9999-12-31", { year: 9999, month: 12, day: 31 }],
  ["13-05-23", null],
  ["20130-05-23", null],
  ["2013/05/23", null],
  ["2013-05-23T00:00:00", null],
  ["", null],
  ["2013", null],
  ["2013-05", null],
  ["2013-05-", null],
  ["2013-1-1", { year: 2013, month: 1, day: 1 }],
  ["2013-10-5", { year: 2013, month: 10, day: 5 }],
  ["2013-05-123", null],
  ["+2013-05-23", null],
  ["2013-05-1\u0663", { year: 2013, month: 5, day: 13 }],
  ["\u0662\u0660\u0661\u0663-05-23", { year: 2013, month: 5, day: 23 }],
  ["\uff12\uff10\uff11\uff13-05-23", { year: 2013, month: 5, day: 23 }],
  ["2013-\u0660\u0665-23", null],
  ["\ud835\udfd0\ud835\udfce\ud835\udfcf\ud835\udfd1-05-23", { year: 2013, month: 5, day: 23 }],
  ["\ud803\udd42\ud803\udd40\ud803\udd41\ud803\udd43-05-23", null],
  ["2012-12-12abc", null],
];

const EDITED = "{\"heat_template_version\": \"2013-05-23\", \"resources\": {\"r\": {\"type\": \"OS::Heat::None\", \"properties\": {\"a\": 1.0}, \"metadata\": {}, \"depends_on\": [\"x\"], \"deletion_policy\": \"Retain\", \"update_policy\": {}}}, \"outputs\": {\"o\": {\"description\": \"d\", \"value\": 1}}, \"parameters\": {\"p\": {\"type\": \"String\", \"default\": 1}, \"q\": {\"type\": \"Number\"}}, \"AWSTemplateFormatVersion\": \"2010-09-09\"}";

const EDIT_SOURCE =
  '{"heat_template_version": "2013-05-23", "resources": {"r": {"Type": "OS::Heat::None", ' +
  '"DependsOn": ["x"], "Properties": {"a": 1.0}, "Metadata": {}, "UpdatePolicy": {}, ' +
  '"DeletionPolicy": "Retain"}}, "outputs": {"o": {"Value": 1, "Description": "d"}}, ' +
  '"parameters": {"p": {"Type": "String", "type": "x", "default": 1}, "q": {"Type": "Number"}}}';

function obj(v: PyJson | undefined): PyObject {
  assert.ok(isObject(v), 'expected an object');
  return v;
}

function decodeError(fn: () => unknown): PyJsonDecodeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PyJsonDecodeError, `expected PyJsonDecodeError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

test('loads: JSON values become Python types', () => {
  const v = loads('[1, -0, 1.0, 1e5, 1E+2, -0.0, 123456789012345678901234567890, "s", true, false, null, {}, []]');
  assert.ok(Array.isArray(v));
  const [i, negZero, f1, f2, f3, f4, big, s, t, fa, n, o, a] = v;
  assert.deepEqual(i, new PyInt('1'));
  assert.deepEqual(negZero, new PyInt('0'));
  assert.deepEqual(f1, new PyFloat(1));
  assert.deepEqual(f2, new PyFloat(100000));
  assert.deepEqual(f3, new PyFloat(100));
  assert.ok(f4 instanceof PyFloat && Object.is(f4.value, -0));
  assert.deepEqual(big, new PyInt('123456789012345678901234567890'));
  assert.equal(s, 's');
  assert.equal(t, true);
  assert.equal(fa, false);
  assert.equal(n, null);
  assert.ok(isObject(o) && o.size === 0);
  assert.deepEqual(a, []);
  assert.equal(isObject([]), false);
  assert.equal(isObject(undefined), false);
  assert.equal(isObject(null), false);
});

test('loads: NaN, Infinity, -Infinity are floats', () => {
  const v = loads(' [NaN, Infinity, -Infinity] ');
  assert.ok(Array.isArray(v));
  assert.ok(v[0] instanceof PyFloat && Number.isNaN(v[0].value));
  assert.deepEqual(v[1], new PyFloat(Infinity));
  assert.deepEqual(v[2], new PyFloat(-Infinity));
});

test('loads: string escapes, surrogate pairs and lone surrogates', () => {
  assert.equal(loads('"\\"\\\\\\/\\b\\f\\n\\r\\t"'), '"\\/\b\f\n\r\t');
  assert.equal(loads('"\\u00e9\\u00E9\\uD83D\\uDE00"'), '\u00e9\u00e9\u{1F600}');
  assert.equal(loads('"\\ud800"'), '\ud800');
  assert.equal(loads('"a\\udfffb\\ud800"'), 'a\udfffb\ud800');
  assert.equal(loads('"\u{1F600}\u007f\u2028"'), '\u{1F600}\u007f\u2028');
});

test('loads: duplicate keys keep the first position and the last value', () => {
  const o = obj(loads('{"a": 1, "b": 2, "a": 3, "c": 4, "b": 5}'));
  assert.deepEqual([...o.keys()], ['a', 'b', 'c']);
  assert.deepEqual(o.get('a'), new PyInt('3'));
  assert.deepEqual(o.get('b'), new PyInt('5'));
});

test('round trips equal Python json.dumps(json.loads(text))', () => {
  for (const [input, expected] of ROUND_TRIPS) {
    assert.equal(dumps(loads(input)), expected, `input ${JSON.stringify(input)}`);
  }
});

test('key order with edits: set keeps the place, a new key goes last, delete removes', () => {
  const t = obj(loads(EDIT_SOURCE));
  // 041: renames in Heat's order.
  const renames: [string, string][] = [
    ['Type', 'type'], ['Properties', 'properties'], ['Metadata', 'metadata'],
    ['DependsOn', 'depends_on'], ['DeletionPolicy', 'deletion_policy'], ['UpdatePolicy', 'update_policy'],
  ];
  for (const r of obj(t.get('resources')).values()) {
    const res = obj(r);
    for (const [from, to] of renames) {
      if (res.has(from)) {
        res.set(to, res.get(from)!);
        res.delete(from);
      }
    }
  }
  for (const o of obj(t.get('outputs')).values()) {
    const out = obj(o);
    for (const [from, to] of [['Description', 'description'], ['Value', 'value']] as const) {
      if (out.has(from)) {
        out.set(to, out.get(from)!);
        out.delete(from);
      }
    }
  }
  // 037: Type wins over an existing type, which keeps its place.
  for (const p of obj(t.get('parameters')).values()) {
    const schema = obj(p);
    if (schema.has('Type')) {
      schema.set('type', schema.get('Type')!);
      schema.delete('Type');
    }
  }
  // 043: an existing key keeps its place, a new one is appended.
  t.set('heat_template_version', '2013-05-23');
  t.set('AWSTemplateFormatVersion', '2010-09-09');
  assert.equal(dumps(t), EDITED);
  assert.deepEqual(
    [...obj(obj(t.get('resources')).get('r')).keys()],
    ['type', 'properties', 'metadata', 'depends_on', 'deletion_policy', 'update_policy'],
  );
});

test('dumps: every string escape rule (ensure_ascii)', () => {
  for (const [s, expected] of STRINGS) {
    assert.equal(dumps(s), expected, `string ${JSON.stringify(s)}`);
    assert.equal(dumps(new Map([[s, s]])), `{${expected}: ${expected}}`);
  }
});

test('dumps: floats as Python repr', () => {
  for (const [x, expected] of FLOATS) {
    assert.equal(dumps(new PyFloat(x)), expected, `float ${x}`);
  }
});

test('dumps: ints, constants, separators, nesting', () => {
  assert.equal(dumps(new PyInt('-123456789012345678901234567890')), '-123456789012345678901234567890');
  assert.equal(dumps([true, false, null, [], new Map(), [[]]]), '[true, false, null, [], {}, [[]]]');
  const m: PyObject = new Map<string, PyJson>([['b', new PyInt('1')], ['a', [new PyFloat(0.5), 'x']]]);
  assert.equal(dumps(m), '{"b": 1, "a": [0.5, "x"]}');
});

test('dumps: values that are not PyJson and circular containers are rejected', () => {
  assert.throws(() => dumps(1 as unknown as PyJson), /Object of type int is not JSON serializable/);
  assert.throws(() => dumps({ a: 1 } as unknown as PyJson), /not JSON serializable/);
  assert.throws(() => dumps(undefined as unknown as PyJson), /not JSON serializable/);
  const a: PyJson[] = [];
  a.push([a]);
  assert.throws(() => dumps(a), /Circular reference detected/);
  const m: PyObject = new Map();
  m.set('self', m);
  assert.throws(() => dumps(m), /Circular reference detected/);
  const shared: PyJson[] = ['x'];
  assert.equal(dumps([shared, shared]), '[["x"], ["x"]]');
});

test('loads: decode errors carry Python message and position', () => {
  for (const [input, message, pos] of DECODE_ERRORS) {
    const e = decodeError(() => loads(input));
    assert.equal(e.message, message, `input ${JSON.stringify(input)}`);
    assert.equal(e.pos, pos, `input ${JSON.stringify(input)}`);
    assert.equal(e.name, 'JSONDecodeError');
  }
});

test('loads: other Python errors', () => {
  assert.throws(() => loads(null as unknown as string), {
    name: 'TypeError',
    message: 'the JSON object must be str, bytes or bytearray, not NoneType',
  });
  // Python 3.11+: int() refuses more than 4300 digits (ValueError, not JSONDecodeError).
  assert.deepEqual(loads('-' + '9'.repeat(4300)), new PyInt('-' + '9'.repeat(4300)));
  assert.throws(() => loads('1'.repeat(4301)), (e: unknown) =>
    e instanceof PyValueError &&
    e.message === 'Exceeds the limit (4300 digits) for integer string conversion: value has 4301 ' +
      'digits; use sys.set_int_max_str_digits() to increase the limit');
  // Floats have no digit limit.
  assert.deepEqual(loads('1'.repeat(5000) + '.0'), new PyFloat(Infinity));
  // Nesting: Python's recursion limit (1000) is always exceeded at depth 1000.
  assert.equal(dumps(loads('['.repeat(900) + ']'.repeat(900))), '['.repeat(900) + ']'.repeat(900));
  assert.throws(() => loads('['.repeat(1000) + ']'.repeat(1000)), PyRecursionError);
  assert.throws(() => loads('{"a":'.repeat(1000) + '1' + '}'.repeat(1000)), PyRecursionError);
});

test('PyJsonDecodeError computes line and column like Python', () => {
  const e = new PyJsonDecodeError('Boom', 'ab\n\u{1F600}cd\nef', 5);
  assert.equal(e.message, 'Boom: line 2 column 3 (char 5)');
  assert.equal(e.lineno, 2);
  assert.equal(e.colno, 3);
  assert.equal(e.msg, 'Boom');
  assert.equal(new PyJsonDecodeError('X', '\nabc', 0).message, 'X: line 1 column 1 (char 0)');
});

test('py.istitle matches Python str.istitle', () => {
  for (const [s, expected] of ISTITLE) assert.equal(istitle(s), expected, `istitle(${JSON.stringify(s)})`);
});

test('py.lower matches Python str.lower', () => {
  for (const [s, expected] of LOWER) assert.equal(lower(s), expected, `lower(${JSON.stringify(s)})`);
});

test("py.strptimeYmd matches time.strptime(value, '%Y-%m-%d')", () => {
  for (const [s, expected] of STRPTIME) {
    assert.deepEqual(strptimeYmd(s), expected, `strptime(${JSON.stringify(s)})`);
  }
  // TypeError in Python: not a str.
  for (const v of [null, undefined, 20130523, new PyInt('20130523'), ['2013-05-23'], new String('2013-05-23')]) {
    assert.equal(strptimeYmd(v), null);
  }
});
