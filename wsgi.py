"""WSGI entry point: ``app`` for any WSGI server; ``python wsgi.py`` serves with waitress."""
import logging
import os

from foof import create_app

app = create_app()


def main():
    from foof import serving

    host = os.environ.get("FOOF_HOST", "0.0.0.0")
    port = int(os.environ.get("FOOF_PORT", "4000"))
    threads = int(os.environ.get("FOOF_THREADS", "8"))
    # The foof loggers already have a handler (create_app); give waitress's the same format.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    waitress_log = logging.getLogger("waitress")
    waitress_log.addHandler(handler)
    waitress_log.setLevel(logging.INFO)
    waitress_log.propagate = False
    # waitress warns "Task queue depth is N" on every burst; a busy hour would flood the log.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    serving.serve(app, host=host, port=port, threads=threads)


if __name__ == "__main__":
    main()
