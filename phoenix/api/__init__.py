"""The dashboard API, one module per resource group (47 operations under ``/api/dashboard``)."""
