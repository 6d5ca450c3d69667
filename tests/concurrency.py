"""Run the same work in several threads, each in its own application context (and session)."""
import threading


def run_in_threads(app, work, threads):
    """``work(index)`` in ``threads`` threads at once; fails the test with their exceptions."""
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
        thread.join(60)
    assert not errors, errors
