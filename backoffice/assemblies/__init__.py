"""General assemblies (assemblées générales) of an association.

Public surface:

- ``models``: ``Assembly`` (statutes' settings, ``ASSEMBLY_LIFECYCLE``: draft → convened → in
  session → closed → minutes issued), ``Resolution`` (``RESOLUTION_LIFECYCLE``), the frozen roll
  (``AssemblyVoter``, ``AssemblyExclusion``), ``Proxy``, ``Attendance``, ``Participation``,
  ``OpenVote``, ``SecretBallot``; errors ``AssemblyError``;
- ``rules``: quorum and majorities in plain Python (``quorum()``, ``result()``);
- ``services``: settings and agenda, ``roll()``, ``convene()`` (freezes the roll), ``regularise()``
  (a payment made by the cut-off, recorded after the convocation), the session;
- ``voting``: proxies, attendance, live quorum, open and secret ballots, the room's counts (a show
  of hands, or the tellers' totals of paper ballots chained into the secret box at the close),
  the chair's casting vote declared in the room, tallies;
- ``convocations``: a Word convocation per voter (agenda, personal voting link, proxy form) as
  durable documents, zipped by a job;
- ``views.bp`` (``/o/<org>/assemblies/``), jobs in ``jobs/assemblies.py``.
"""
