import pulumi

from motherduck_provider import ServiceAccount, create_dive_embed_session_output

viewer = ServiceAccount("dive-viewer", username="dive_viewer")
embed = create_dive_embed_session_output(
    dive_id="6f1c2f4e-3b0a-4c55-9d6b-1f2e3d4c5b6a", username=viewer.username
)
pulumi.export("embed_session", embed.session)  # a secret; a new one on every run
