"""Run the same work in several threads, each in its own application context (and session)."""
import threading


def run_in_threads(app, work, threads, timeout=60):
    """``work(index)`` in ``threads`` threads at once; fails the test with their exceptions, or
    when one is still running after its join waited ``timeout`` seconds."""
    errors = []

    def target(index):
        try:
            with app.app_context():
                work(index)
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    running = [threading.Thread(target=target, args=(index,)) for index in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in running), "a thread is still running"
