"""One endpoint per task. A task that can be served registers its function in `ROUTES`:
`add(app, model, limits)` adds the endpoint for a `ServedModel` and returns its path."""

from typing import Annotated

import numpy as np
from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

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


def add_sentiment(app, model, limits):
    predictor = model.predictor

    class SentimentRequest(Strict):
        text: str = Field(
            min_length=1, max_length=limits.max_text_chars, pattern=r"\S", description="a review, in English"
        )
        explain: bool = Field(False, description="add each token's contribution (occlusion)")

    class SentimentResponse(BaseModel):
        label: str
        probability: float = Field(description="P(positive)")
        known_words: int = Field(description="tokens of the text in the run's vocabulary")
        tokens: list[str] | None = None
        contributions: list[float] | None = Field(
            None, description="P(positive) with the token minus P(positive) without it"
        )

    batcher = MicroBatcher(predictor.predict, model.call, max_batch=limits.max_batch)
    predictor.warm_up(limits.max_batch)

    @app.post("/v1/sentiment", response_model=SentimentResponse, dependencies=[Depends(require_json)])
    async def sentiment(request: SentimentRequest):
        """Positive or negative, with P(positive); `explain` adds what each word contributed."""
        if request.explain:

            def explain(text):
                return predictor.explain([text])[0], predictor.preprocessor.known_tokens(text)

            explanation, known = await model.call(explain, request.text)
            return SentimentResponse(
                label=explanation.label,
                probability=explanation.probability,
                known_words=known,
                tokens=list(explanation.tokens),
                contributions=[float(c) for c in explanation.contributions],
            )
        prediction = await batcher.submit(request.text)
        return SentimentResponse(
            label=prediction.label, probability=prediction.probability, known_words=prediction.known_words
        )

    app.state.sentiment_batcher = batcher
    return "/v1/sentiment"


def add_translation(app, model, limits):
    predictor = model.predictor

    class TranslateRequest(Strict):
        text: str = Field(min_length=1, max_length=limits.max_sentence_chars, description="one sentence")
        beam_size: int = Field(1, ge=1, le=limits.max_beam_size)

    class TranslateResponse(BaseModel):
        translation: str
        source_tokens: list[str]
        target_tokens: list[str]
        attention: list[list[float]] | None = Field(
            None, description="(target token, source token) weights; null without attention"
        )
        unknown_words: int

    @app.post("/v1/translate", response_model=TranslateResponse, dependencies=[Depends(require_json)])
    async def translate(request: TranslateRequest):
        """The sentence translated, with the attention weights behind each target token."""
        result = (await model.call(predictor.translate, [request.text], beam_size=request.beam_size))[0]
        attention = None
        if result.attention is not None and len(result.target_tokens):
            attention = np.round(np.asarray(result.attention, dtype=float), 5).tolist()
        return TranslateResponse(
            translation=result.text,
            source_tokens=list(result.source_tokens),
            target_tokens=list(result.target_tokens),
            attention=attention,
            unknown_words=result.unknown,
        )

    return "/v1/translate"


def add_speech(app, model, limits):
    predictor = model.predictor

    class TranscribeResponse(BaseModel):
        text: str
        probability: float | None = Field(None, description="for single digits: P(text)")
        duration_s: float

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

    @app.post("/v1/transcribe", response_model=TranscribeResponse, openapi_extra=upload)
    async def transcribe(request: Request):
        """A WAV file's digits: a multipart upload (field `file`) or the raw file (`audio/wav`)."""
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
        result = (await model.call(predictor.transcribe, [data]))[0]
        rate = predictor.preprocessor.features.sample_rate
        return TranscribeResponse(
            text=result.text, probability=result.probability, duration_s=round(len(result.audio) / rate, 3)
        )

    return "/v1/transcribe"


def add_lm(app, model, limits):
    predictor = model.predictor

    class GenerateRequest(Strict):
        prompt: str = Field(min_length=1, max_length=limits.max_prompt_chars)
        length: int = Field(200, ge=1, le=limits.max_generate_length, description="tokens to generate")
        temperature: float = Field(1.0, gt=0, le=10)
        top_k: int | None = Field(None, ge=1)
        seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None

    class GenerateResponse(BaseModel):
        text: str = Field(description="the continuation, without the prompt")

    @app.post("/v1/generate", response_model=GenerateResponse, dependencies=[Depends(require_json)])
    async def generate(request: GenerateRequest):
        """Text continuing the prompt, sampled from the language model."""
        text = await model.call(
            predictor.generate, request.prompt, length=request.length, temperature=request.temperature,
            top_k=request.top_k, seed=request.seed,
        )  # fmt: skip
        return GenerateResponse(text=text)

    return "/v1/generate"


ROUTES = {  # task name -> add(app, model, limits)
    "sentiment": add_sentiment,
    "translation": add_translation,
    "speech": add_speech,
    "lm": add_lm,
}
