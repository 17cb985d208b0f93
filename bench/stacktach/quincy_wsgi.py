"""quincy (StackTach.v3's REST server) with the quince backend as a WSGI application, for gunicorn:
`gunicorn -w 4 --chdir bench/stacktach quincy_wsgi:application`, with QUINCY_INI naming the ini
file (`[global] enabled_versions = 1`, `v1_impl = quince.v1_impl:Impl`, `[quince]
winchester_config = <yaml>`) that bench/stacktach.py writes. Runs in the peer's virtualenv.
"""
import os
import warnings

warnings.simplefilter("ignore")  # SQLAlchemy cache_ok and falcon deprecation warnings

import quincy.api  # noqa: E402

application = quincy.api.get_api(os.environ["QUINCY_INI"])
