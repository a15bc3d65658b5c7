"""The public SPARQL 1.1 endpoint: protocol, dataset restriction, killable query workers, caps, cache.

Modules, in the order a request meets them:

* :mod:`~dfl_graph.sparql.protocol` reads the HTTP request (GET, POST form, POST sparql-query);
* :mod:`~dfl_graph.sparql.inspection` lexes the query (form, FROM clauses, SERVICE);
* :mod:`~dfl_graph.sparql.dataset` restricts the dataset to the public graphs;
* :mod:`~dfl_graph.sparql.formats` negotiates the result format;
* :mod:`~dfl_graph.sparql.accelerated` answers in the web process what needs no engine: one resource's
  statements, and the everyday catalogue questions that :mod:`~dfl_graph.sparql.shapes` recognises, from the
  :mod:`~dfl_graph.sparql.shape_index` (with the engine's rows, or not at all);
* :mod:`~dfl_graph.sparql.service` answers from :mod:`~dfl_graph.sparql.cache` or runs the query in the
  :mod:`~dfl_graph.sparql.pool` of :mod:`~dfl_graph.sparql.worker` processes (confined by
  :mod:`~dfl_graph.sparql.sandbox`, admitted by :mod:`~dfl_graph.sparql.lanes`, framed by
  :mod:`~dfl_graph.sparql.frames`, written by :mod:`~dfl_graph.sparql.serializers`);
* :mod:`~dfl_graph.sparql.description` is the service description;
* :mod:`~dfl_graph.sparql.public_store` builds, per published generation, the store queries run on (the
  public graphs and their merge), :mod:`~dfl_graph.sparql.shape_index` the shape index read from it, and
  :mod:`~dfl_graph.sparql.limits` gathers the limits.

This package is imported by query workers too, so it imports nothing heavy here.
"""
