"""Receivers near the cursor resolved to their classes from the current file's text (Python and TypeScript)."""

from __future__ import annotations

from housecoder.config import ContextConfig
from housecoder.context import ContextRequest, plan
from housecoder.context.receivers import enclosing_class, receiver_types, type_names

PYTHON = """from .store import Store


class Runner(BaseRunner, Generic[T]):
    cache: Optional[Cache] = None

    def __init__(self, store: Store, backend: Backend) -> None:
        self.store = store
        self._backend = backend
        self.queue = TaskQueue(size=4)

    def run(self, item):
        helper = Helper()
        result = self.store.save(item)
        self.queue.put(result)
        self._backend.go()
        self.cache.get(item)
        helper.flush()
        self.process(item)
        """

TYPESCRIPT = """export class Session extends BaseSession implements Closable {
  private readonly store: EventStore
  constructor(private client: HttpClient, opts?: Options) {
    super()
  }
  async send(msg: Message) {
    const writer = new StreamWriter(msg)
    await this.client.post(msg)
    writer.write(this.store.last())
    this.flush()
    """


def test_python_receivers_resolve_through_annotations_assignments_and_parameters() -> None:
    assert receiver_types(PYTHON, "", "python", 12) == [
        "BaseRunner",
        "Helper",
        "Cache",
        "Backend",
        "TaskQueue",
        "Store",
    ]


def test_typescript_receivers_resolve_fields_constructor_parameters_and_new() -> None:
    assert receiver_types(TYPESCRIPT, "", "typescript", 12) == [
        "BaseSession",
        "Closable",
        "EventStore",
        "StreamWriter",
        "HttpClient",
    ]


def test_the_enclosing_class_is_found_by_indentation() -> None:
    assert enclosing_class(PYTHON) == ("Runner", ["BaseRunner"])
    assert enclosing_class(PYTHON + "\ndef top_level():\n    x = 1\n    ") is None
    assert enclosing_class(TYPESCRIPT) == ("Session", ["BaseSession", "Closable"])


def test_type_names_drop_typing_wrappers_and_type_variables() -> None:
    assert type_names("Optional[dict[str, Store]] | None") == ["Store"]
    assert type_names("Map<string, Agent<T>>") == ["Agent"]


def test_other_languages_and_unknown_receivers_give_nothing() -> None:
    assert receiver_types("x.go()\n", "", "go", 12) == []
    assert receiver_types("def f(x):\n    x.go()\n    ", "", "python", 12) == []


def test_the_plan_puts_receiver_classes_first_when_asked() -> None:
    request = ContextRequest("app/run.py", "python", PYTHON, "")
    assert plan(request, ContextConfig(receivers=True)).names[:2] == ("BaseRunner", "Helper")
    assert plan(request, ContextConfig()).names[0] == "process"  # off by default: the names near the cursor
