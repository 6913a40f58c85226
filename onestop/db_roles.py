"""What the application's database role may do to the audit trail, enforced at every `migrate`.

The owner runs `migrate`; the application connects as another role (docs/security.md). Whatever
was granted on the audit tables (by hand, or by default privileges when `migrate` created them),
no role but their owner keeps UPDATE, DELETE or TRUNCATE on the trail or its links, nor DELETE or
TRUNCATE on its head: the application appends rows and links and moves the head forward (which its
trigger checks).
"""

from __future__ import annotations

from django.db import connections

# Per table, the privileges only its owner keeps.
OWNER_ONLY = {
    "onestop_auditevent": ("UPDATE", "DELETE", "TRUNCATE"),
    "onestop_auditlink": ("UPDATE", "DELETE", "TRUNCATE"),
    "onestop_auditchainhead": ("DELETE", "TRUNCATE"),
}

_GRANTEES = """
SELECT DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END
FROM pg_class c, aclexplode(c.relacl) acl
WHERE c.oid = to_regclass(%s) AND acl.grantee <> c.relowner AND acl.privilege_type = ANY(%s)
"""


def audit_privileges_restrict(*, using: str = "default") -> list[str]:
    """Revoke what OWNER_ONLY keeps for the owner from every other grantee; the statements run."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    done = []
    with connection.cursor() as cursor:
        for table, privileges in OWNER_ONLY.items():
            cursor.execute(_GRANTEES, [table, list(privileges)])
            for (grantee,) in cursor.fetchall():
                statement = f"REVOKE {', '.join(privileges)} ON {connection.ops.quote_name(table)} FROM {grantee}"
                cursor.execute(statement)
                done.append(statement)
    return done
