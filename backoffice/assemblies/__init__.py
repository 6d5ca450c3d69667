"""General assemblies (assemblées générales) of an association.

Public surface:

- ``models``: ``Assembly`` (statutes' settings, ``ASSEMBLY_LIFECYCLE``: draft → convened → in
  session → closed → minutes issued), ``Resolution`` (``RESOLUTION_LIFECYCLE``), the frozen roll
  (``AssemblyVoter``, ``AssemblyExclusion``), ``Proxy``, ``Attendance``, ``Participation``,
  ``OpenVote``, ``SecretBallot``; errors ``AssemblyError``;
- ``rules``: quorum and majorities in plain Python (``quorum()``, ``result()``);
- ``services``: settings and agenda, ``roll()``, ``convene()`` (freezes the roll), the session;
- ``views.bp`` (``/o/<org>/assemblies/``), jobs in ``jobs/assemblies.py``.
"""
