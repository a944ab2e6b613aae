/**
 * Seeded weight initializers (Kaiming, Xavier, normal, uniform, constants) that layers call in
 * their constructors: the same {@link java.util.random.RandomGenerator} seed gives the same model.
 */
package dev.mpt.nn.init;
