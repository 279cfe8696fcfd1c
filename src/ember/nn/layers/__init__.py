"""Layer families of ember.nn; each module exports its layers in __all__."""
