"""eKool reference behaviour: Laravel Passport / league/oauth2-server 8 authorization server with login and
consent pages, and the resource API (reference/ekool-oauth2.md, seeds/002_e54ad929c1948203.txt)."""

from harness.apis import ApiPlugin
from harness.apis.ekool import demo, problems
from harness.apis.ekool.tokens import ACCESS_KID
from harness.apis.ekool.wire import as_league_sees_it

PLUGIN = ApiPlugin(
    name="ekool",
    base_paths=("",),
    owns=problems.owns,
    ddl=demo.DDL,
    seed=demo.seed,
    key_ids=(ACCESS_KID,),
    wrap=as_league_sees_it,
    error_response=problems.error_response,
    banner=demo.banner,
    links=demo.links,
)
