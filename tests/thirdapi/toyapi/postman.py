"""The toy API's Postman flow."""

from __future__ import annotations

from harness.plugins import PostmanFlow, PostmanStep


def steps() -> list[PostmanStep]:
    return [PostmanStep("greet ada", "getGreeting", "{{toy_url}}/greeting/ada", 200,
                        checks=('pm.expect(body.greeting).to.eql("hello, ada");',)),
            PostmanStep("echo a note", "echoNote", "{{toy_url}}/notes", 200, json_body={"text": "hi"})]


FLOW = PostmanFlow(steps=steps, environment=lambda: {"toy_url": "{{base_url}}/toy"})
