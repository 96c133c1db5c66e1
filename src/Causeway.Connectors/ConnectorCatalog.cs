using System.Collections.Concurrent;

namespace Causeway.Connectors;

/// <summary>
/// The connectors an installation offers: the built-ins plus imported packages, by unique name. Thread-safe.
/// Storage is the server's business; this is the in-memory index it fills at start-up and on import.
/// </summary>
public sealed class ConnectorCatalog
{
    private readonly ConcurrentDictionary<string, ConnectorDefinition> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _addLock = new();

    /// <summary>Creates a catalog, with the built-in connectors unless told otherwise.</summary>
    public ConnectorCatalog(bool includeBuiltIns = true)
    {
        if (includeBuiltIns)
        {
            foreach (var c in BuiltInConnectors.All)
            {
                _byName[c.Name] = c;
            }
        }
    }

    /// <summary>Every connector, by name.</summary>
    public IReadOnlyList<ConnectorDefinition> All => _byName.Values.OrderBy(c => c.Name, StringComparer.Ordinal).ToList();

    /// <summary>The connector with this name, or null.</summary>
    public ConnectorDefinition? Find(string name) => _byName.TryGetValue(name, out var c) ? c : null;

    /// <summary>
    /// Adds a connector, renaming it <c>name-2</c>, <c>name-3</c> ... when its name is taken; returns the stored
    /// definition (with its final name).
    /// </summary>
    public ConnectorDefinition Add(ConnectorDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        lock (_addLock)
        {
            var name = ConnectorNaming.MakeUnique(definition.Name, _byName.ContainsKey);
            var stored = name == definition.Name ? definition : definition with { Name = name };
            _byName[name] = stored;
            return stored;
        }
    }

    /// <summary>Replaces the connector of the same name (a new version of a package); false when there is none or it is built in.</summary>
    public bool Replace(ConnectorDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        lock (_addLock)
        {
            if (!_byName.TryGetValue(definition.Name, out var old) || old.IsBuiltIn)
            {
                return false;
            }

            _byName[definition.Name] = definition;
            return true;
        }
    }

    /// <summary>Removes an imported connector; built-ins stay.</summary>
    public bool Remove(string name)
    {
        lock (_addLock)
        {
            return _byName.TryGetValue(name, out var c) && !c.IsBuiltIn && _byName.TryRemove(name, out _);
        }
    }
}
