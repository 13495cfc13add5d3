
# ---------------------------------------------------------------------------------------------
# Hand-written: bindings/python/append_to_module.py, appended to the generated module by
# scripts/gen-python. It only adds to the generated classes.
#
# Exit without shutdown(): Python, once its shutdown has begun, ends any other thread that
# tries to run Python code by unwinding it (pthread_exit). An SDK thread calling the app's
# LogSink or DeliveryListener at that moment would be unwound through Rust, and the process
# would abort ("FATAL: exception not rethrown"). atexit handlers run before that shutdown, so
# every live client drops its callbacks there; set_log_sink(None) and
# set_delivery_listener(None) return only once no SDK thread is inside, or still holds, the old
# one, and no SDK thread calls into Python afterwards.
# ---------------------------------------------------------------------------------------------
import atexit as _atexit
import weakref as _weakref

_live_clients = _weakref.WeakSet()
_generated_client_init = ConversionsClient.__init__


def _remembered_client_init(self, *args, **kwargs):
    _generated_client_init(self, *args, **kwargs)
    _live_clients.add(self)


ConversionsClient.__init__ = _remembered_client_init


@_atexit.register
def _drop_callbacks_before_interpreter_shutdown():
    for client in list(_live_clients):
        client.set_log_sink(None)
        client.set_delivery_listener(None)

