"""Requests that arrive while the model is busy are answered by one call.

No request waits for company: the first one runs at once; those that queue up
meanwhile (up to `max_batch`) form the next call. Under load the batch grows by
itself, and an idle server answers with a batch of one.
"""

import asyncio
import collections


class MicroBatcher:
    """Answers `submit(item)` calls with `function(items)[i]`, batching queued items.

    Args:
        function: a list of items -> a list of results in the same order (run on `call`).
        call: how to run `function` (e.g. `ServedModel.call`, the model's thread); awaited.
        max_batch: the most items per call.

    Example:
    >>> batcher = MicroBatcher(predictor.classify, model.call)  # doctest: +SKIP
    >>> await batcher.submit("a wonderful film")  # doctest: +SKIP
    """

    def __init__(self, function, call, max_batch=64):
        if max_batch < 1:
            raise ValueError(f"Expected max_batch >= 1. Received: {max_batch}")
        self.function = function
        self.call = call
        self.max_batch = max_batch
        self.queue = None
        self.worker = None
        self.loop = None
        self.batch_sizes = collections.deque(maxlen=10_000)  # of the latest calls (tests, diagnostics)

    async def submit(self, item):
        loop = asyncio.get_running_loop()
        if self.loop is not loop or self.worker.done():  # first call, a new event loop, or a crash
            if self.queue is not None:
                _fail_all(self.queue, RuntimeError("the batching worker stopped"))
            self.loop, self.queue = loop, asyncio.Queue()
            self.worker = loop.create_task(self._work())
        future = loop.create_future()
        await self.queue.put((item, future))
        return await future

    async def _work(self):
        while True:
            batch = [await self.queue.get()]
            while len(batch) < self.max_batch and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            batch = [(item, future) for item, future in batch if not future.cancelled()]  # clients gone
            if not batch:
                continue
            self.batch_sizes.append(len(batch))
            try:
                results = await self.call(self.function, [item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{len(batch)} items gave {len(results)} results")
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
            except BaseException as error:  # every waiting request gets the failure, none hangs
                failure = error if isinstance(error, Exception) else RuntimeError("the worker stopped")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(failure)
                if not isinstance(error, Exception):  # cancelled: fail what is queued too, then stop
                    _fail_all(self.queue, RuntimeError("the batching worker stopped"))
                    raise


def _fail_all(queue, error):
    while not queue.empty():
        _, future = queue.get_nowait()
        if not future.done():
            future.set_exception(error)
