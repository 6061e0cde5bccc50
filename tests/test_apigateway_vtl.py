"""The Velocity engine of mapping templates, and what templates see (``$input``, ``$util``)."""

from __future__ import annotations

import json
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from awsemu.apigateway.templates import Input, Util, choose_template, json_path, render_template
from awsemu.apigateway.vtl import TemplateError, render


def rendered(template: str, **variables: Any) -> str:
    return render(template, variables)


class ReferenceTests(SynchronousTestCase):
    def test_references(self) -> None:
        """Plain, braced and quiet references; properties, calls and indexes; nothing is empty."""
        variables = {"a": {"b": [10, {"c": "deep"}]}, "s": "Hello"}
        self.assertEqual(
            rendered(
                "$a.b[1].c ${s}world $!nothing|$nothing.x|$s.length() $s. $!{s}|$!{none}|$5",
                **variables,
            ),
            "deep Helloworld ||5 Hello. Hello||$5",
        )

    def test_string_methods(self) -> None:
        """The Java methods templates call on strings."""
        self.assertEqual(
            rendered(
                "$s.toUpperCase() $s.substring(1, 3) $s.replaceAll('(l+)', '<$1>') "
                "$s.split('l').size() $s.indexOf('l') $s.matches('H.*') $s.startsWith('He')",
                s="Hello",
            ),
            "HELLO el He<ll>o 3 2 true true",
        )

    def test_maps_and_lists(self) -> None:
        """Map and list methods, literals, ranges and Java's ``toString`` of collections."""
        self.assertEqual(
            rendered(
                "#set($m = {'k': 1})#set($unused = $m.put('j', [1..3]))"
                "$m $m.keySet() $m.get('j').size() $m.containsKey('k') $m.j[2] "
                "#set($l = [1, 'a', true, $m.k])$l $l.get(1)"
            ),
            "{k=1, j=[1, 2, 3]} [k, j] 3 true 3 [1, a, true, 1] a",
        )

    def test_escapes_and_comments(self) -> None:
        """``\\$`` is text, comments vanish, ``#[[...]]#`` is written as is."""
        self.assertEqual(
            rendered("\\$a ## gone\n#* gone\ntoo *#x #[[#if $raw]]# #notadirective", a=1),
            "$a x #if $raw #notadirective",
        )


class DirectiveTests(SynchronousTestCase):
    def test_if(self) -> None:
        """#if/#elseif/#else with Velocity's operators; only null and false are false."""
        template = "#if($n > 2 && $n != 5)big#elseif($n eq 2 or $s)two-or-s#else other#end"
        self.assertEqual(
            [rendered(template, n=n, s=s) for n, s in ((3, None), (2, None), (1, ""), (1, None))],
            ["big", "two-or-s", "two-or-s", " other"],
        )
        self.assertEqual(rendered("#if(!$x)none#end#if(not true)no#end"), "none")
        # A brace after #end is the template's text; #{end} is the braced form.
        self.assertEqual(
            rendered('{"a": #if($x)1#else 2#end} #{if}(true)y#{else}n#{end}', x=False),
            '{"a":  2} y',
        )

    def test_set(self) -> None:
        """
        #set with arithmetic; a null value leaves the variable alone; nested
        targets. Names may hold ``-`` (as in Velocity 1.7), hence ``${x}-``.
        """
        self.assertEqual(
            rendered(
                "#set($x = 7 / 2)#set($y = $x * 2 + 1)#set($y = $missing)#set($m.k = 'v')"
                '$x $y $m.k #set($t = "${x}-$m.k")$t $x-',
                m={},
            ),
            "3 7 v 3-v ",
        )

    def test_foreach(self) -> None:
        """#foreach over lists and maps (their values), with its loop variables and #break."""
        self.assertEqual(
            rendered(
                "#foreach($i in $l)$i:$foreach.index:$velocityCount#if($foreach.hasNext),#end#end"
                " #foreach($v in $m)$v#end #foreach($i in [1..5])#if($i == 3)#break#end$i#end",
                l=["a", "b"],
                m={"x": 1, "y": 2},
            ),
            "a:0:1,b:1:2 12 12",
        )

    def test_lines(self) -> None:
        """A line holding only a directive disappears whole, so JSON comes out clean."""
        template = (
            "{\n  #set($n = 2)\n  #foreach($i in [1..$n])\n"
            '  "k$i": $i#if($foreach.hasNext),#end\n  #end\n}'
        )
        self.assertEqual(rendered(template), '{\n  "k1": 1,\n  "k2": 2\n}')

    def test_errors(self) -> None:
        """A template that cannot be parsed raises TemplateError, with its line."""
        for broken in ("#if($a)x", "#set(1 = 2)", "#foreach($i $l)#end", "$a.b(", "#* open"):
            self.assertRaises(TemplateError, render, broken, {})
        self.assertIn("line 2", str(self.assertRaises(TemplateError, render, "\n#if(", {})))


class InputTests(SynchronousTestCase):
    def test_json_path(self) -> None:
        """JSONPath as API Gateway's ``$input.path`` reads it."""
        document = {"a": {"b": [{"c": 1}, {"c": 2}]}, "k y": True}
        self.assertEqual(json_path(document, "$"), document)
        self.assertEqual(json_path(document, "$.a.b[1].c"), 2)
        self.assertEqual(json_path(document, "$.a.b[-1]"), {"c": 2})
        self.assertEqual(json_path(document, "$['k y']"), True)
        self.assertEqual(json_path(document, "$.a.b[*].c"), [1, 2])
        self.assertEqual(json_path(document, "$..c"), [1, 2])
        self.assertIsNone(json_path(document, "$.missing.x"))
        self.assertRaises(TemplateError, json_path, document, "$.a(")

    def test_input(self) -> None:
        """``$input.json``, ``$input.path``, ``$input.body`` and ``$input.params``."""
        parameters = {"path": {"id": "7"}, "querystring": {"q": "x"}, "header": {"X-Key": "k"}}
        variables = {"input": Input('{"name": "Ann", "tags": ["a", "b"]}', parameters)}
        self.assertEqual(
            render(
                "$input.json('$.tags') $input.path('$.name') $input.path('$.tags').size() "
                "$input.params('id') $input.params('q') $input.params('x-key') "
                "[$input.params('none')] $input.params().header.get('X-Key') $input.body",
                variables,
            ),
            '["a","b"] Ann 2 7 x k [] k {"name": "Ann", "tags": ["a", "b"]}',
        )
        self.assertEqual(render("$input.json('$')", {"input": Input("", {})}), "{}")

    def test_util(self) -> None:
        """``$util``'s escaping and encoding, as Java's libraries do it."""
        util = Util()
        self.assertEqual(
            util.escapeJavaScript("He said \"hi\"/'yo'\n\té\U0001f600"),
            "He said \\\"hi\\\"\\/\\'yo\\'\\n\\t\\u00E9\\uD83D\\uDE00",
        )
        self.assertEqual(util.urlEncode("a b&c=d~*"), "a+b%26c%3Dd%7E*")
        self.assertEqual(util.urlDecode("a+b%26"), "a b&")
        self.assertEqual(util.base64Decode(util.base64Encode("héllo")), "héllo")
        self.assertEqual(util.base64Encode("hi"), "aGk=")
        self.assertEqual(util.parseJson('{"a": [1]}'), {"a": [1]})

    def test_render_template(self) -> None:
        """A full mapping template: context, stage variables, and a ``#set`` into ``$context``."""
        context: dict[str, Any] = {"requestId": "r1", "responseOverride": {"status": None}}
        output = render_template(
            '#set($context.responseOverride.status = 400){"id": "$context.requestId", '
            '"v": "$stageVariables.v", "msg": "$util.escapeJavaScript($input.path(\'$.m\'))"}',
            '{"m": "a\\"b"}',
            {},
            context,
            {"v": "1"},
        )
        self.assertEqual(output, '{"id": "r1", "v": "1", "msg": "a\\"b"}')
        self.assertEqual(context["responseOverride"]["status"], 400)

    def test_passthrough_template(self) -> None:
        """A template that passes every parameter on, as the console's does, makes valid JSON."""
        template = """## everything, as JSON
#set($all = $input.params())
{
"body" : $input.json('$'),
"params" : {
#foreach($kind in $all.keySet())
    #set($values = $all.get($kind))
"$kind" : {
    #foreach($name in $values.keySet())
    "$name" : "$util.escapeJavaScript($values.get($name))"
        #if($foreach.hasNext),#end
    #end
}
    #if($foreach.hasNext),#end
#end
},
"stage" : {
#foreach($key in $stageVariables.keySet())
"$key" : "$util.escapeJavaScript($stageVariables.get($key))"
    #if($foreach.hasNext),#end
#end
},
"account" : "$context.identity.accountId"
}
"""
        parameters = {
            "path": {"id": "1"},
            "querystring": {"q": "a b", "r": "2"},
            "header": {"User-Agent": 'ua "q"'},
        }
        output = render_template(
            template,
            '{"a": [1, "x\\"y"]}',
            parameters,
            {"identity": {"accountId": None}},
            {"s": "v"},
        )
        self.assertEqual(
            json.loads(output),
            {
                "body": {"a": [1, 'x"y']},
                "params": parameters,
                "stage": {"s": "v"},
                "account": "",
            },
        )

    def test_choose_template(self) -> None:
        """By media type (parameters ignored), else the JSON one, else none."""
        templates = {"application/xml": "x", "application/json": "j"}
        self.assertEqual(choose_template(templates, "application/XML; charset=utf-8"), "x")
        self.assertEqual(choose_template(templates, "text/html"), "j")
        self.assertIsNone(choose_template({"text/plain": "t"}, None))
