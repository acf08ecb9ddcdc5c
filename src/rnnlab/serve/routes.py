"""One generic endpoint per served run: `POST /v1/<task>` answers with the run's
`Predictor.predict` record for one input.

A text task takes JSON `{"input": "...", <option>: value, ...}`; its options are the predictor's
`options_cls` fields, checked strictly (a misspelt field is an error; "3" is not a number) within
their bounds and the server's `Limits`. An audio task takes the sound file as a multipart upload
(field `file`) or the raw body (`audio/wav`), with its options as query parameters. Nothing here
names a task.
"""

import dataclasses
from typing import Literal

from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from rnnlab import config as configs
from rnnlab.serve.batching import MicroBatcher

JSON_TYPES = ("application/json",)
AUDIO_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "application/octet-stream")


def _media_type(request):
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def require_json(request: Request):
    """415 unless the body is declared JSON (checked before the body is validated)."""
    media_type = _media_type(request)
    if media_type not in JSON_TYPES and not media_type.endswith("+json"):
        raise HTTPException(415, f"Expected Content-Type: application/json. Received: {media_type or 'none'}")


class Strict(BaseModel):
    # A misspelt field is an error, not ignored; no coercion ("yes" is not a bool, "3" not a number).
    model_config = ConfigDict(extra="forbid", strict=True)


class Lenient(BaseModel):
    # Query parameters arrive as text: "5" is read as 5; unknown ones are still an error.
    model_config = ConfigDict(extra="forbid")


def option_fields(options_cls, limits):
    """Pydantic fields of a predictor's options: their types, defaults, bounds (tightened by
    `limits.option_caps`) and help."""
    fields = {}
    for field in dataclasses.fields(options_cls) if options_cls else ():
        meta = field.metadata
        bounds = {}
        if meta.get("min") is not None:
            bounds["gt" if meta.get("min_exclusive") else "ge"] = meta["min"]
        high = meta.get("max")
        cap = limits.option_caps.get(field.name)
        if cap is not None and (high is None or cap < high):
            high = cap
        if high is not None:
            bounds["lt" if meta.get("max_exclusive") and high == meta.get("max") else "le"] = high
        annotation = (
            Literal[meta["choices"]] if meta.get("choices") is not None else configs.field_type(field)
        )
        if configs.is_optional(field):
            annotation = annotation | None
        fields[field.name] = (annotation, Field(field.default, description=meta.get("help"), **bounds))
    return fields


def add_route(app, model, limits):
    """Adds `POST /v1/<task>` for a `ServedModel`; returns its path."""
    predictor = model.predictor
    name = predictor.task.name
    path = f"/v1/{name}"
    options = option_fields(predictor.options_cls, limits)
    title = name.capitalize()
    if predictor.input_kind == "audio":
        _add_audio_route(app, model, path, create_model(f"{title}Options", __base__=Lenient, **options))
        return path
    request_model = create_model(
        f"{title}Request",
        __base__=Strict,
        input=(str, Field(min_length=1, max_length=limits.max_input_chars, pattern=r"\S",
                          description=predictor.input_description)),
        **options,
    )  # fmt: skip
    defaults = {field: info[1].default for field, info in options.items()}
    batcher = MicroBatcher(predictor.predict, model.call, max_batch=limits.max_batch)
    predictor.warm_up(limits.max_batch)

    async def predict(request: request_model):
        given = request.model_dump(exclude={"input"})
        if predictor.batches_requests and given == defaults:  # one model call for the requests queued
            return await batcher.submit(request.input)
        return (await model.call(predictor.predict, [request.input], **given))[0]

    predict.__doc__ = _summary(predictor)
    app.post(path, dependencies=[Depends(require_json)], name=name)(predict)
    app.state.batchers[name] = batcher
    return path


def _add_audio_route(app, model, path, options_model):
    predictor = model.predictor
    upload = {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
                "audio/wav": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }

    async def predict(request: Request, options: options_model = Depends()):  # noqa: B008  (FastAPI's way)
        media_type = _media_type(request)
        if media_type == "multipart/form-data":
            try:
                form = await request.form(max_files=1, max_fields=1)
            except StarletteHTTPException as error:  # malformed: Starlette says 400; it is unusable input
                raise HTTPException(422, f"Could not read the multipart form: {error.detail}") from None
            sound = form.get("file")
            if not isinstance(sound, UploadFile):
                raise HTTPException(422, "Expected the sound file in the form field 'file'. Received: none.")
            data = await sound.read()
        elif media_type in AUDIO_TYPES:
            data = await request.body()
        else:
            expected = "multipart/form-data (field 'file') or audio/wav"
            raise HTTPException(415, f"Expected Content-Type {expected}. Received: {media_type or 'none'}")
        return (await model.call(predictor.predict, [data], **options.model_dump()))[0]

    predict.__doc__ = _summary(predictor)
    app.post(path, openapi_extra=upload, name=predictor.task.name)(predict)


def _summary(predictor):
    """The first line of the predictor's docstring (the endpoint's description)."""
    lines = (predictor.__doc__ or "").strip().splitlines()
    return lines[0] if lines else f"Predictions of a {predictor.task.name} run."
