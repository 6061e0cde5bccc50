"""
Function URLs: their configurations (``*FunctionUrlConfig*``) and the
calls they receive, turned into invocations (the mapping of requests and
answers lives in ``urls``).
"""

from __future__ import annotations

from awsemu.gateway.context import RequestContext
from awsemu.lambda_ import errors, urls
from awsemu.lambda_.common import Params, public, scope_of, timestamp
from awsemu.lambda_.functions import LATEST, Document, Function, Scope, Version, function_arn
from awsemu.lambda_.invoking import Call, Invoking
from awsemu.protocol.errors import ServiceError
from awsemu.protocol.http import HttpRequest, HttpResponse
from awsemu.state.jsonfile import saving


class FunctionUrls(Invoking):
    """Function URL configurations, and the URLs' calls."""

    endpoint_url: str

    def _url_target(self, context: RequestContext, params: Params) -> tuple[Function, str]:
        function, qualifier = self._policy_target(context, params)
        if qualifier == LATEST or qualifier in function.versions:
            raise errors.invalid("Function URLs can only be created for an alias or $LATEST.")
        return function, qualifier

    def _url_output(self, context: RequestContext, function: Function, qualifier: str) -> Document:
        settings = function.url_configs.get(qualifier)
        if settings is None:
            raise errors.not_found("The resource you requested does not exist.")
        return {
            **public(settings),
            "FunctionArn": function_arn(scope_of(context), function.name, qualifier or None),
        }

    @saving
    async def create_function_url_config(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._url_target(context, params)
        if qualifier in function.url_configs:
            raise errors.conflict(
                "Failed to create function url config for [functionArn ="
                f" {function_arn(scope_of(context), function.name, qualifier or None)}]. Error"
                " message:  FunctionUrlConfig exists for this Lambda function"
            )
        url_id = urls.new_url_id(self.new_id)
        now = timestamp(self.clock.seconds())
        function.url_configs[qualifier] = {
            "FunctionUrl": urls.function_url(url_id, context.region, self.endpoint_url),
            "AuthType": params["AuthType"],
            "InvokeMode": params.get("InvokeMode", "BUFFERED"),
            "CreationTime": now,
            "LastModifiedTime": now,
            "_UrlId": url_id,
        }
        if "Cors" in params:
            # AWS leaves the member out of a URL configured without CORS.
            function.url_configs[qualifier]["Cors"] = params["Cors"]
        output = self._url_output(context, function, qualifier)
        del output["LastModifiedTime"]
        return output

    async def get_function_url_config(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        return self._url_output(context, function, qualifier)

    @saving
    async def update_function_url_config(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        self._url_output(context, function, qualifier)
        settings = function.url_configs[qualifier]
        for member in ("AuthType", "Cors", "InvokeMode"):
            if member in params:
                settings[member] = params[member]
        settings["LastModifiedTime"] = timestamp(self.clock.seconds())
        return self._url_output(context, function, qualifier)

    @saving
    async def delete_function_url_config(self, context: RequestContext, params: Params) -> Document:
        function, qualifier = self._policy_target(context, params)
        self._url_output(context, function, qualifier)
        del function.url_configs[qualifier]
        return {}

    async def list_function_url_configs(self, context: RequestContext, params: Params) -> Document:
        name, _ = self._reference(params, qualified=False)
        function = self.store.function(scope_of(context), name)
        configs = [self._url_output(context, function, q) for q in sorted(function.url_configs)]
        return {"FunctionUrlConfigs": configs}

    async def invoke_url(self, request: HttpRequest, url_id: str) -> HttpResponse:
        """
        A call of a function URL: the request as a payload 2.0 event, the
        function's answer mapped back to HTTP as AWS does.
        """
        found = self.store.find_url(url_id)
        if found is None:
            return urls.not_found()
        scope, function, qualifier = found
        version = function.version(qualifier or None)
        if version is None:
            return urls.not_found()
        cors = function.url_configs[qualifier].get("Cors") or {}
        answer = urls.preflight(cors, request)
        if answer is not None:
            return answer
        response = await self._call_url(request, url_id, scope, function, version, qualifier)
        urls.decorate(cors, request, response)
        return response

    async def _call_url(
        self,
        request: HttpRequest,
        url_id: str,
        scope: Scope,
        function: Function,
        version: Version,
        qualifier: str,
    ) -> HttpResponse:
        request_id = self.new_id()
        event = urls.event(request, url_id, scope[0], request_id, self.clock.seconds())
        try:
            run = self._runner(Call(scope, function, version, qualifier or None, event))
            outcome = await run()
        except ServiceError as e:
            if e.code == "TooManyRequestsException":
                return urls.throttled()
            return urls.internal_error()
        if outcome.function_error is not None:
            return urls.internal_error()
        return urls.response(outcome.payload)
