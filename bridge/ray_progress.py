"""The Ray backend's progress mailbox, in a module of its own: Ray imports an actor's module in
the actor's process, and this one imports nothing (the render modules would load torch there,
seconds of CPU at every batch's start for a process that only holds a list)."""


class ProgressSink:
    """A tiny actor: tasks put progress events, the driver takes them all every tenth of a second."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def put(self, event: tuple) -> None:
        self.events.append(event)

    def drain(self) -> list[tuple]:
        events, self.events = self.events, []
        return events
