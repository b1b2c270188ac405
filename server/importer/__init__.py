"""Bringing an App Services app's users and their custom user data into Latchkey.

``users`` reads the Admin API's user listing, ``custom_data`` a ``mongoexport`` of the custom
user data collection, and ``cli`` runs them as ``serve.py import-users`` and
``import-custom-data``. Both go through the Store contract, one transaction per user or
document, and can run again without changing anything.
"""
