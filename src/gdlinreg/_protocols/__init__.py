"""The protocols of the architecture (structural: implementations need not inherit).

:mod:`.registry`: what a loss, a penalty, a constraint and a schedule answer (the entries of
the registries). :mod:`.source`: what an objective form and a source of data answer (the
loop asks them for its numbers).
"""
