/**
 * The per-row decisions of Heat's template migrations 037, 041 and 043 (MIGRATIONS.md §2.5, §3),
 * without a database: Python's semantics on odd documents (`in` on lists and strings, key order,
 * re-encoding) and the rows Heat's scripts crash on. Expected texts are what Python 3's json and
 * dict operations give for the same edits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { migrateTemplate as m037 } from '../../migrate_repo/versions/037_migrate_hot_template.js';
import { migrateTemplate as m041 } from '../../migrate_repo/versions/041_migrate_hot_template_resources.js';
import { migrateTemplate as m043 } from '../../migrate_repo/versions/043_migrate_template_versions.js';
import { TemplateProblem } from '../../migrate_repo/lib/templates.js';

const problem = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: Error) => e instanceof TemplateProblem && pattern.test(e.message));

test('037: Type wins over an existing type and keeps its place; title-case types are lowered', () => {
  assert.equal(
    m037('{"heat_template_version": "2013-05-23", "parameters": {"a": {"Type": "String", "type": "number", "x": 1}}}'),
    '{"heat_template_version": "2013-05-23", "parameters": {"a": {"type": "string", "x": 1}}}',
  );
  assert.equal(
    m037('{"heat_template_version":"2013-05-23","parameters":{"j":{"type":"Json"},"c":{"type":"Comma_Delimited_List"}}}'),
    '{"heat_template_version": "2013-05-23", "parameters": {"j": {"type": "json"}, "c": {"type": "comma_delimited_list"}}}',
  );
  // Not title case, or already a HOT type: untouched, so the row is not written.
  assert.equal(m037('{"heat_template_version": "x", "parameters": {"a": {"type": "STRING"}, "b": {"type": "CommaDelimitedList"}}}'), null);
  assert.equal(m037('{"parameters": {"a": {"Type": "String"}}}'), null);
  assert.equal(m037('{"heat_template_version": "x"}'), null);
});

test('037: re-encoding is json.dumps: floats, non-ASCII, duplicate keys', () => {
  assert.equal(
    m037('{"heat_template_version": "a", "parameters": {"p": {"Type": "Number", "default": 1E+2, "label": "\u00e9\ud83d\ude00/"}}, "heat_template_version": "b"}'),
    '{"heat_template_version": "b", "parameters": {"p": {"default": 100.0, "label": "\\u00e9\\ud83d\\ude00/", "type": "number"}}}',
  );
});

test('037: Python `in` on non-objects, and the rows Heat crashes on', () => {
  assert.equal(m037('"no version here"'), null); // substring test, False
  assert.equal(m037('["heat_template_version"]'), null); // list membership, no "parameters"
  problem(() => m037('"heat_template_version and parameters"'), /the template is a JSON str, not an object/);
  problem(() => m037('["heat_template_version", "parameters"]'), /the template is a JSON list/);
  problem(() => m037('5'), /the template is a JSON int/);
  problem(() => m037('null'), /the template is a JSON NoneType/);
  problem(() => m037(null), /template is NULL/);
  problem(() => m037('heat_template_version: 2013-05-23'), /not JSON \(JSONDecodeError: Expecting value: line 1 column 1 \(char 0\)\)/);
  problem(() => m037('{"heat_template_version": "x", "parameters": {"a": {"default": 1}}}'), /parameter 'a' has no type/);
  problem(() => m037('{"heat_template_version": "x", "parameters": {"a": {"type": 5}}}'), /parameter 'a' has a type that is not a string/);
  problem(() => m037('{"heat_template_version": "x", "parameters": ["a"]}'), /'parameters' is a JSON list/);
  problem(() => m037('{"heat_template_version": "x", "parameters": {"a": "String"}}'), /parameter 'a' is a JSON str/);
});

test('041: CFN keys in resources and outputs become HOT keys, in the order of the renames', () => {
  assert.equal(
    m041('{"heat_template_version": "x", "resources": {"r": {"Type": "T", "DependsOn": "d", "Properties": {}, "Metadata": {}, "UpdatePolicy": 1, "DeletionPolicy": "Retain"}}}'),
    '{"heat_template_version": "x", "resources": {"r": {"type": "T", "properties": {}, "metadata": {}, "depends_on": "d", "deletion_policy": "Retain", "update_policy": 1}}}',
  );
  assert.equal(
    m041('{"heat_template_version": "x", "outputs": {"o": {"value": 0, "Value": 1, "Description": "d"}}}'),
    '{"heat_template_version": "x", "outputs": {"o": {"value": 1, "description": "d"}}}',
  );
  assert.equal(m041('{"heat_template_version": "x", "resources": {"r": "plain", "s": ["x"]}, "outputs": {}}'), null);
  assert.equal(m041('{"AWSTemplateFormatVersion": "x", "Resources": {"r": {"Type": "T"}}}'), null);
  problem(() => m041('{"heat_template_version": "x", "resources": {"r": "MyType"}}'), /resources entry 'r' is a JSON str/);
  problem(() => m041('{"heat_template_version": "x", "resources": {"r": ["Type"]}}'), /resources entry 'r' is a JSON list/);
  problem(() => m041('{"heat_template_version": "x", "resources": {"r": null}}'), /resources entry 'r' is a JSON NoneType/);
  problem(() => m041('{"heat_template_version": "x", "outputs": null}'), /'outputs' is a JSON NoneType/);
  problem(() => m041('["heat_template_version"]'), /the template is a JSON list/);
});

test('043: old or unparseable dates get the canonical one; the last matching key wins', () => {
  assert.equal(m043('{"heat_template_version": "2014-04-24"}'), null);
  assert.equal(m043('{"heat_template_version": "2015-4-30"}'), null);
  assert.equal(m043('{"heat_template_version": "2014-04-23"}'), '{"heat_template_version": "2013-05-23"}');
  assert.equal(m043('{"heat_template_version": ""}'), '{"heat_template_version": "2013-05-23"}');
  assert.equal(m043('{"heat_template_version": null, "x": 1.5}'), '{"heat_template_version": "2013-05-23", "x": 1.5}');
  assert.equal(m043('{"HeatTemplateFormatVersion":"2012-12-12"}'), '{"HeatTemplateFormatVersion": "2012-12-12"}');
  assert.equal(
    m043('{"heat_template_version": "2012-01-01", "HeatTemplateFormatVersion": "2016-01-01", "AWSTemplateFormatVersion": "2009-01-01"}'),
    '{"heat_template_version": "2012-01-01", "HeatTemplateFormatVersion": "2016-01-01", "AWSTemplateFormatVersion": "2010-09-09"}',
  );
  assert.equal(m043('"no keys"'), null);
  assert.equal(m043('[]'), null);
  problem(() => m043('["AWSTemplateFormatVersion"]'), /the template is a JSON list/);
  problem(() => m043(null), /template is NULL/);
  problem(() => m043('1.5'), /the template is a JSON float/);
});
