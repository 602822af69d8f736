"""The unit and integration tests (the browser journeys are in e2e/)."""
