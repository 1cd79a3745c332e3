# The benchmark passes every gunicorn setting on its command line; this file keeps gunicorn
# from reading the project's gunicorn.conf.py, whose production checks are not under test here.
